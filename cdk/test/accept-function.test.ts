import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PixfrontStack } from '../lib/stack';

type Headers = Record<string, { value: string }>;
type Handler = (event: { request: { headers: Headers } }) => { headers: Headers };

/** The handler exactly as deployed: the function code taken from the synthesized template. */
function deployedHandler(autoWebp: boolean, autoAvif: boolean): Handler {
  const stack = new PixfrontStack(new App(), 'Test', { pixfront: { sourceBuckets: ['my-originals'], autoWebp, autoAvif } });
  const fns = Object.values(Template.fromStack(stack).findResources('AWS::CloudFront::Function'));
  expect(fns).toHaveLength(1);
  return new Function(`${fns[0].Properties.FunctionCode}\nreturn handler;`)() as Handler;
}

function normalise(handler: Handler, accept: string | undefined): string | undefined {
  const headers: Headers = accept === undefined ? {} : { accept: { value: accept } };
  return handler({ request: { headers } }).headers.accept?.value;
}

// Real Accept headers sent for <img> requests.
const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const FIREFOX = 'image/avif,image/webp,*/*';
const SAFARI_16 = 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5';
const SAFARI_13 = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
const CURL = '*/*';

describe('Accept normaliser (CloudFront Function)', () => {
  test('AUTO_AVIF and AUTO_WEBP: avif, else webp, else */* (neither)', () => {
    const h = deployedHandler(true, true);
    expect(normalise(h, CHROME)).toBe('image/avif');
    expect(normalise(h, FIREFOX)).toBe('image/avif');
    expect(normalise(h, SAFARI_16)).toBe('image/avif');
    expect(normalise(h, 'image/webp,*/*')).toBe('image/webp');
    expect(normalise(h, SAFARI_13)).toBe('*/*');
    expect(normalise(h, CURL)).toBe('*/*');
    expect(normalise(h, undefined)).toBe('*/*');
  });

  test('q-values as pixfront reads them: avif refused with q=0, webp by substring', () => {
    const h = deployedHandler(true, true);
    expect(normalise(h, 'image/avif;q=0,image/webp')).toBe('image/webp');
    expect(normalise(h, 'image/avif; q=0.0 ,*/*')).toBe('*/*');
    expect(normalise(h, 'IMAGE/AVIF;Q=0.5')).toBe('image/avif');
    expect(normalise(h, 'image/avif;q=abc,image/webp')).toBe('image/webp');
    expect(normalise(h, 'image/avif;level=1')).toBe('image/avif');
    expect(normalise(h, 'image/avifx,image/webp;q=0')).toBe('image/webp');
  });

  test('a format whose switch is off never splits the cache', () => {
    const webpOnly = deployedHandler(true, false);
    expect(normalise(webpOnly, CHROME)).toBe('image/webp');
    expect(normalise(webpOnly, 'image/avif,*/*')).toBe('*/*');
    const avifOnly = deployedHandler(false, true);
    expect(normalise(avifOnly, CHROME)).toBe('image/avif');
    expect(normalise(avifOnly, 'image/webp,*/*')).toBe('*/*');
  });

  test('every browser collapses to one of three cache-key values', () => {
    const h = deployedHandler(true, true);
    const keys = new Set([CHROME, FIREFOX, SAFARI_16, SAFARI_13, CURL, 'image/webp,*/*', undefined].map((a) => normalise(h, a)));
    expect([...keys].sort()).toEqual(['*/*', 'image/avif', 'image/webp']);
  });
});
