import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { propsFromContext } from '../lib/context';
import { PixfrontProps } from '../lib/pixfront';
import { PixfrontStack } from '../lib/stack';
import { actions, allStatements, functionProps, resources } from './helpers';

function synth(props: PixfrontProps): Template {
  return Template.fromStack(new PixfrontStack(new App(), 'Test', { pixfront: props, monitoring: false }));
}

const BUCKETS = { sourceBuckets: ['my-originals'] };
const env = (t: Template): Record<string, string> => functionProps(t, 'Pixfront').Environment.Variables;

function distribution(t: Template) {
  const d = Object.values(t.findResources('AWS::CloudFront::Distribution'));
  expect(d).toHaveLength(1);
  return d[0].Properties.DistributionConfig;
}

describe('result bucket in front of the function (default)', () => {
  const t = synth({ ...BUCKETS, resultBucket: { expirationDays: 7 } });
  const config = distribution(t);

  test('a new private bucket whose renditions expire', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7, Status: 'Enabled' })] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
    });
  });

  test('the function stores renditions under URL paths in a settings-digest prefix', () => {
    const e = env(t);
    expect(e.RESULT_KEYS).toBe('path');
    expect(e.RESULT_PREFIX).toMatch(/^renditions-[0-9a-f]{12}\/$/);
    expect(e.RESULT_BUCKET).toEqual({ Ref: expect.stringMatching(/^PixfrontResultsBucket/) });
  });

  test('a settings change moves the prefix', () => {
    const other = synth({ ...BUCKETS, resultBucket: { expirationDays: 7 }, forceBlurFaces: ['my-originals'] });
    expect(env(other).RESULT_PREFIX).not.toBe(env(t).RESULT_PREFIX);
    expect(env(synth({ ...BUCKETS, resultBucket: { expirationDays: 7 } })).RESULT_PREFIX).toBe(env(t).RESULT_PREFIX);
  });

  test('the function may read, write and list the bucket, renditions only', () => {
    const rw = allStatements(t).find((s) => s.Sid === 'ReadWriteRenditions')!;
    expect(actions(rw).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(JSON.stringify(resources(rw))).toContain(`/${env(t).RESULT_PREFIX}*`);
    expect(allStatements(t).find((s) => s.Sid === 'ListRenditions')).toBeDefined();
  });

  test('CloudFront reads the bucket first and fails over to the function on 403/404', () => {
    expect(config.OriginGroups.Quantity).toBe(1);
    const group = config.OriginGroups.Items[0];
    expect(group.FailoverCriteria.StatusCodes.Items.sort()).toEqual([403, 404]);
    const [primary, fallback] = group.Members.Items.map((m: { OriginId: string }) => m.OriginId);
    expect(config.DefaultCacheBehavior.TargetOriginId).toBe(group.Id);
    const byId = Object.fromEntries(config.Origins.map((o: { Id: string }) => [o.Id, o]));
    expect(byId[primary].S3OriginConfig).toBeDefined();
    expect(byId[primary].OriginPath).toBe(`/${env(t).RESULT_PREFIX.replace(/\/$/, '')}`);
    expect(byId[primary].OriginAccessControlId).toBeDefined();
    expect(byId[fallback].DomainName).toBeDefined();
    expect(byId[fallback].S3OriginConfig).toBeUndefined();
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3' }),
    });
  });

  test('no query string reaches the cache key or the function (S3 ignores it)', () => {
    const policy = Object.values(t.findResources('AWS::CloudFront::CachePolicy'))[0].Properties.CachePolicyConfig;
    expect(policy.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior).toBe('none');
  });

  test('refused with signatures, which S3 cannot check', () => {
    const signature = { secretName: 's', secretKey: 'k' };
    expect(() => synth({ ...BUCKETS, signature, resultBucket: {} })).toThrow(/cannot check signatures/);
  });
});

describe('result bucket behind the function only', () => {
  const t = synth({
    ...BUCKETS,
    signature: { secretName: 's', secretKey: 'k' },
    resultBucket: { servedByCloudFront: false, bucket: 'my-renditions' },
  });

  test('hash keys, no origin group, signatures kept', () => {
    expect(env(t)).toMatchObject({ RESULT_KEYS: 'hash', RESULT_PREFIX: 'renditions/', RESULT_BUCKET: 'my-renditions' });
    expect(distribution(t).OriginGroups).toBeUndefined();
    t.resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('an existing bucket gets no lifecycle rule', () => {
    expect(() =>
      synth({ ...BUCKETS, resultBucket: { servedByCloudFront: false, bucket: 'my-renditions', expirationDays: 3 } }),
    ).toThrow(/expirationDays needs a new bucket/);
  });
});

test('context keys', () => {
  const ctx: Record<string, string> = { resultBucket: 'Yes', resultExpirationDays: '14', resultServedByCloudFront: 'No' };
  expect(propsFromContext((k) => ctx[k]).resultBucket).toEqual({
    bucket: undefined,
    expirationDays: 14,
    servedByCloudFront: false,
  });
  expect(propsFromContext(() => undefined).resultBucket).toBeUndefined();
});
