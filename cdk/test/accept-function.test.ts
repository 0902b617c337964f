import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HINT_WIDTHS } from '../lib/accept-function';
import { PixfrontProps } from '../lib/pixfront';
import { PixfrontStack } from '../lib/stack';

type Headers = Record<string, { value: string }>;
type Query = Record<string, { value: string; multiValue?: { value: string }[] }>;
type Request = { headers: Headers; querystring?: Query };
type Handler = (event: { request: Request }) => Request;

/** The handler exactly as deployed: the function code taken from the synthesized template. */
function deployed(props: PixfrontProps): Handler {
  const stack = new PixfrontStack(new App(), 'Test', { pixfront: { sourceBuckets: ['my-originals'], ...props } });
  const fns = Object.values(Template.fromStack(stack).findResources('AWS::CloudFront::Function'));
  expect(fns).toHaveLength(1);
  return new Function(`${fns[0].Properties.FunctionCode}\nreturn handler;`)() as Handler;
}

function deployedHandler(autoWebp: boolean, autoAvif: boolean): Handler {
  return deployed({ autoWebp, autoAvif });
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

/** The hint headers after the function, by their lower-case names (as CloudFront passes them). */
function hints(handler: Handler, given: Headers): Headers {
  const out = handler({ request: { headers: { ...given } } }).headers;
  return Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith('sec-ch-')));
}

describe('client hints (CloudFront Function)', () => {
  test('snapped to fixed values: pixel ratio 1/2/3, widths up to a breakpoint', () => {
    const h = deployed({ clientHints: true });
    const v = (value: string) => ({ value });
    expect(hints(h, { 'sec-ch-dpr': v('2.625'), 'sec-ch-width': v('412'), 'sec-ch-viewport-width': v('1000') })).toEqual({
      'sec-ch-dpr': v('3'),
      'sec-ch-width': v('480'),
      'sec-ch-viewport-width': v('1024'),
    });
    expect(hints(h, { 'sec-ch-dpr': v('1.25'), 'sec-ch-width': v('320') })).toEqual({ 'sec-ch-dpr': v('1'), 'sec-ch-width': v('320') });
    expect(hints(h, { 'sec-ch-dpr': v('0.5'), 'sec-ch-viewport-width': v('9000') })).toEqual({
      'sec-ch-dpr': v('1'),
      'sec-ch-viewport-width': v('3840'),
    });
    // Malformed hints are removed, not keyed on.
    expect(hints(h, { 'sec-ch-dpr': v('abc'), 'sec-ch-width': v('-3'), 'sec-ch-viewport-width': v('') })).toEqual({});
    expect(hints(h, {})).toEqual({});
  });

  test('every device collapses to few cache-key values', () => {
    const h = deployed({ clientHints: true });
    const keys = new Set<string>();
    for (let dpr = 0.75; dpr <= 4; dpr += 0.125) {
      for (let w = 100; w <= 5000; w += 37) {
        const out = hints(h, { 'sec-ch-dpr': { value: String(dpr) }, 'sec-ch-width': { value: String(w) } });
        keys.add(`${out['sec-ch-dpr'].value}/${out['sec-ch-width'].value}`);
      }
    }
    expect(keys.size).toBe(3 * HINT_WIDTHS.length);
  });

  test('the breakpoints are pixfront\'s (src/request/hints.rs), so direct and cached requests agree', () => {
    const rust = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'request', 'hints.rs'), 'utf8');
    const m = /pub const WIDTHS: \[u32; \d+\] = \[([^\]]+)\]/.exec(rust);
    expect(m).not.toBeNull();
    expect(m![1].split(',').map((n) => Number(n.trim()))).toEqual([...HINT_WIDTHS]);
  });

  test('off: hints pass untouched (and are not in the cache key)', () => {
    const h = deployed({});
    expect(hints(h, { 'sec-ch-dpr': { value: '2.625' } })).toEqual({ 'sec-ch-dpr': { value: '2.625' } });
  });
});

describe('query parameters (CloudFront Function)', () => {
  const query = (handler: Handler, q: Query) => Object.keys(handler({ request: { headers: {}, querystring: q } }).querystring ?? {});

  test('signatures off: only the edit parameters are kept', () => {
    const h = deployed({});
    const q: Query = {
      width: { value: '300' },
      preset: { value: 'thumb' },
      dpr: { value: '2' },
      quality: { value: 'auto' },
      utm_source: { value: 'news' },
      cb: { value: '123', multiValue: [{ value: '123' }, { value: '4' }] },
      Width: { value: '1' },
    };
    expect(query(h, q).sort()).toEqual(['dpr', 'preset', 'quality', 'width']);
    expect(query(h, {})).toEqual([]);
  });

  test('signatures on: every parameter is kept (all are signed)', () => {
    const h = deployed({ autoWebp: true, signature: { secretName: 's', secretKey: 'k' } });
    expect(query(h, { width: { value: '1' }, signature: { value: 'x' }, other: { value: 'y' } }).sort()).toEqual(['other', 'signature', 'width']);
  });
});
