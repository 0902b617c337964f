import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContextKey, propsFromContext } from '../lib/context';
import { PixfrontProps } from '../lib/pixfront';
import { PixfrontStack } from '../lib/stack';
import { actions, allStatements, functionProps, resources, s3Arn } from './helpers';

function synth(props: PixfrontProps): Template {
  return Template.fromStack(new PixfrontStack(new App(), 'Test', { pixfront: props }));
}

const env = (t: Template): Record<string, string> => functionProps(t, 'Pixfront').Environment.Variables;
const s3Resources = (t: Template) =>
  allStatements(t)
    .filter((s) => actions(s).some((a) => a.startsWith('s3:')))
    .flatMap(resources);

describe('origins (docs/origins.md)', () => {
  const props: PixfrontProps = {
    sourceBuckets: ['my-originals', 'photos', 'legacy'],
    origins: { photos: 'https://img.example.com/media/', legacy: 's3:my-old-bucket' },
    originPaths: { 'cms/': 'photos', 'archive/': 'my-archive' },
    originUrlHosts: ['images.example.com', '.cdn.example.net'],
  };
  const t = synth(props);

  test('reach the function as ORIGINS, ORIGIN_PATHS and ORIGIN_URL_HOSTS', () => {
    expect(env(t)).toMatchObject({
      SOURCE_BUCKETS: 'my-originals,photos,legacy',
      ORIGINS: 'photos=https://img.example.com/media/,legacy=s3:my-old-bucket',
      ORIGIN_PATHS: 'cms/=photos,archive/=my-archive',
      ORIGIN_URL_HOSTS: 'images.example.com,.cdn.example.net',
    });
    // Never set by the construct: opening private networks is the operator's explicit choice.
    expect(env(t).ORIGIN_ALLOW_NETWORKS).toBeUndefined();
    expect(env(t).ORIGIN_ALLOW_HTTP).toBeUndefined();
  });

  test('S3 read only on the buckets behind the names: none for an HTTP origin', () => {
    const granted = s3Resources(t);
    expect(granted).toEqual(
      expect.arrayContaining([s3Arn('my-originals/*'), s3Arn('my-old-bucket/*'), s3Arn('my-archive/*'), s3Arn('my-originals')]),
    );
    const text = JSON.stringify(granted);
    expect(text).not.toContain(':s3:::photos');
    expect(text).not.toContain(':s3:::legacy');
    expect(text).not.toContain('"*"');
  });

  test('nothing public that was private: the same origin access and invoke grants', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    const perms = Object.values(t.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(perms.map((p) => p.Principal)).toEqual(['cloudfront.amazonaws.com', 'cloudfront.amazonaws.com']);
    expect(perms.every((p) => p.FunctionUrlAuthType === undefined)).toBe(true);
    const plain = synth({ sourceBuckets: ['my-originals'] });
    const resourceTypes = (x: Template) =>
      Object.values(x.toJSON().Resources as Record<string, { Type: string }>)
        .map((r) => r.Type)
        .sort();
    expect(resourceTypes(t)).toEqual(resourceTypes(plain));
  });

  test('only HTTP origins: no bucket created, no S3 permission', () => {
    const only = synth({ sourceBuckets: ['site'], origins: { site: 'https://www.example.com/images/' } });
    only.resourceCountIs('AWS::S3::Bucket', 0);
    expect(s3Resources(only)).toEqual([]);
    expect(env(only).SOURCE_BUCKETS).toBe('site');
  });

  test.each<[PixfrontProps, RegExp]>([
    [{ sourceBuckets: ['a'], origins: { web: 'https://x.example/' } }, /origins.web is neither a source bucket nor the target/],
    [{ sourceBuckets: ['web'], origins: { web: 'http://x.example/' } }, /ORIGIN_ALLOW_HTTP=Yes/],
    [{ sourceBuckets: ['web'], origins: { web: 'ftp://x.example/' } }, /neither https/],
    [{ sourceBuckets: ['web'], origins: { web: 's3:' } }, /neither https/],
    [{ sourceBuckets: ['a b'], origins: { 'a b': 's3:x' } }, /is not a name/],
    [{ sourceBuckets: ['web'], origins: { web: 'https://x.example/a,b/' } }, /comma/],
    [{ sourceBuckets: ['web'], origins: { web: 'https://x.example/?v=1' } }, /no query/],
    [{ sourceBuckets: ['web'], origins: { web: 'https://user:pw@x.example/' } }, /credentials/],
    [{ sourceBuckets: ['a'], originPaths: { '': 'a' } }, /expected a key prefix/],
    [{ sourceBuckets: ['a'], originUrlHosts: ['a/b'] }, /is not a host/],
  ])('%o is refused at synth', (p, message) => {
    expect(() => synth(p)).toThrow(message);
  });

  test('http:// with ORIGIN_ALLOW_HTTP=Yes in environment', () => {
    const ok = synth({
      sourceBuckets: ['web'],
      origins: { web: 'http://x.example/' },
      environment: { ORIGIN_ALLOW_HTTP: 'Yes' },
    });
    expect(env(ok).ORIGINS).toBe('web=http://x.example/');
    expect(() => synth({ sourceBuckets: ['web'], environment: { ORIGINS: 'x=s3:y' }, origins: { web: 's3:other-bucket' } })).toThrow(
      /environment.ORIGINS is set by the construct/,
    );
  });

  test('context: comma-separated pairs on the command line, objects in cdk.json', () => {
    const fromContext = (ctx: Partial<Record<ContextKey, unknown>>) => propsFromContext((k) => ctx[k]);
    const cli = fromContext({
      origins: 'photos=https://img.example.com/media/, legacy=s3:old',
      originPaths: '/cms/=photos',
      originUrlHosts: 'images.example.com, .cdn.example.net',
    });
    expect(cli.origins).toEqual({ photos: 'https://img.example.com/media/', legacy: 's3:old' });
    expect(cli.originPaths).toEqual({ '/cms/': 'photos' });
    expect(cli.originUrlHosts).toEqual(['images.example.com', '.cdn.example.net']);
    const json = fromContext({ origins: { photos: 'https://img.example.com/' }, originUrlHosts: ['a.example'] });
    expect(json.origins).toEqual({ photos: 'https://img.example.com/' });
    expect(() => fromContext({ origins: 'photos' })).toThrow(/origins: expected name=value/);
    // The leading slash of a prefix is dropped, as the function does.
    expect(env(synth({ sourceBuckets: ['a', 'photos'], ...cli, origins: { photos: 'https://x.example/' } })).ORIGIN_PATHS).toBe(
      'cms/=photos',
    );
  });
});
