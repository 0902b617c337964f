import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Rendition } from '../lib/renditions';
import { PixfrontStack } from '../lib/stack';
import { PixfrontUploadPipeline, PixfrontUploadPipelineProps } from '../lib/upload-pipeline';
import { actions, allStatements, functionProps, resources, roleStatements } from './helpers';

const THUMB: Rendition = { name: 'thumb', edits: { resize: { width: 300 } }, outputFormat: 'webp', key: '{dir}/thumb/{stem}.webp' };

function pipeline(props: Partial<PixfrontUploadPipelineProps>): Template {
  const stack = new Stack(new App(), 'Test');
  new PixfrontUploadPipeline(stack, 'Pipeline', { renditions: [THUMB], ...props });
  return Template.fromStack(stack);
}

const ref = (prefix: string, t: Template, type: string) => {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('renditions delivered over HTTPS (deliverRenditions)', () => {
  const t = pipeline({ deliverRenditions: true });
  const bucket = ref('PipelineDestination', t, 'AWS::S3::Bucket');
  const distribution = ref('PipelineRenditionsDistribution', t, 'AWS::CloudFront::Distribution');

  test('CloudFront reads the private destination bucket through Origin Access Control, HTTPS only', () => {
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const config = t.findResources('AWS::CloudFront::Distribution')[distribution].Properties.DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].DomainName).toEqual({ 'Fn::GetAtt': [bucket, 'RegionalDomainName'] });
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
  });

  test('cached long: a year, keyed on the path alone', () => {
    t.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: {
        DefaultTTL: 31536000,
        MaxTTL: 31536000,
        ParametersInCacheKeyAndForwardedToOrigin: {
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
        },
      },
    });
  });

  test('the bucket stays private: public access blocked, only this distribution may read', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy')).filter((p) => p.Properties.Bucket.Ref === bucket);
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as any[];
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' });
    expect(Object.keys(allows[0].Condition)).toEqual(['StringEquals']);
    expect(JSON.stringify(allows[0].Condition.StringEquals['AWS:SourceArn'])).toContain(`"Ref":"${distribution}"`);
    // No public principal anywhere; TLS-only deny kept.
    expect(JSON.stringify(statements)).not.toContain('"Principal":"*"},"Action":"s3:GetObject"');
    expect(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'))).toBe(true);
    // No ACLs granting anything: the bucket has no AccessControl setting.
    for (const b of Object.values(t.findResources('AWS::S3::Bucket'))) expect(b.Properties.AccessControl).toBeUndefined();
  });

  test('its URL is an output', () => {
    const outputs = t.findOutputs('*');
    const url = Object.entries(outputs).find(([id]) => id.startsWith('PipelineRenditionsUrl'));
    expect(url?.[1].Value).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }]] });
  });

  test('off by default', () => {
    pipeline({}).resourceCountIs('AWS::CloudFront::Distribution', 0);
  });
});

describe('presigned uploads (uploadPages): PutObject on the upload prefix only', () => {
  const stack = new PixfrontStack(new App(), 'Test', {
    uploadPipeline: { renditions: [THUMB], prefix: 'uploads/', deliverRenditions: true, uploadPages: { tokenSecretField: 'uploadToken' } },
  });
  const t = Template.fromStack(stack);

  test('the image function may PutObject under uploads/ of the source bucket, nothing else', () => {
    const source = ref('UploadPipelineSource', t, 'AWS::S3::Bucket');
    const statements = roleStatements(t, 'PixfrontFunctionRole').length > 0 ? roleStatements(t, 'PixfrontFunctionRole') : allStatements(t);
    const presign = statements.filter((s) => s.Sid === 'PresignUploads');
    expect(presign).toHaveLength(1);
    expect(actions(presign[0])).toEqual(['s3:PutObject']);
    expect(resources(presign[0])).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [source, 'Arn'] }, '/uploads/*']] }]);
    // No other statement in the template lets anyone write the source bucket.
    const writers = allStatements(t).filter(
      (s) => actions(s).some((a) => a === 's3:PutObject' || a === 's3:*') && JSON.stringify(resources(s)).includes(source),
    );
    expect(writers).toEqual(presign);
    // The gallery may list the upload prefix, nothing more.
    const list = statements.filter((s) => s.Sid === 'ListUploads');
    expect(list).toHaveLength(1);
    expect(actions(list[0])).toEqual(['s3:ListBucket']);
    expect(list[0].Condition).toEqual({ StringLike: { 's3:prefix': ['uploads/*'] } });
  });

  test('the image function serves the pages, with renditions linked through the distribution', () => {
    const fns = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([, f]) => f.Properties.Environment?.Variables?.PIXFRONT_UPLOADS);
    expect(fns).toHaveLength(1);
    const vars = fns[0][1].Properties.Environment.Variables;
    expect(vars).toMatchObject({ PIXFRONT_UPLOADS: 'Yes', UPLOAD_PREFIX: 'uploads/', UPLOAD_TOKEN_SECRET_KEY: 'uploadToken' });
    expect(JSON.stringify(vars.UPLOAD_RENDITIONS_URL)).toContain('UploadPipelineRenditionsDistribution');
    expect(vars.PIXFRONT_LAMBDA_MODE).not.toBe('events');
    expect(JSON.stringify(vars.PIXFRONT_RENDITIONS)).toContain('thumb/{stem}.webp');
  });

  test('the pages reach the function through the image distribution: path / only, uncached, POST allowed', () => {
    const distributions = Object.entries(t.findResources('AWS::CloudFront::Distribution')).filter(([id]) => id.startsWith('PixfrontDistribution'));
    expect(distributions).toHaveLength(1);
    const config = distributions[0][1].Properties.DistributionConfig;
    expect(config.CacheBehaviors).toHaveLength(1);
    const pages = config.CacheBehaviors[0];
    expect(pages).toMatchObject({
      PathPattern: '/',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
    });
    // The same origin as the images (one origin, one OAC).
    expect(config.Origins).toHaveLength(1);
    expect(pages.TargetOriginId).toBe(config.DefaultCacheBehavior.TargetOriginId);
    // Images keep their behaviour.
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
  });

  test('refused without a prefix (the grant would cover the whole bucket)', () => {
    expect(
      () => new PixfrontStack(new App(), 'Test', { uploadPipeline: { renditions: [THUMB], uploadPages: {} } }),
    ).toThrow(/presigned uploads need a source prefix/);
  });
});

describe('uploads that are not images (notAnImage)', () => {
  test('quarantine: may delete under the prefix and write quarantine/ only', () => {
    const t = pipeline({ prefix: 'uploads/', notAnImage: 'quarantine' });
    const source = ref('PipelineSource', t, 'AWS::S3::Bucket');
    const bySid = Object.fromEntries(roleStatements(t, 'PipelineRole').map((s) => [s.Sid, s]));
    expect(actions(bySid.RemoveNonImages)).toEqual(['s3:DeleteObject']);
    expect(resources(bySid.RemoveNonImages)).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [source, 'Arn'] }, '/uploads/*']] }]);
    expect(actions(bySid.QuarantineNonImages)).toEqual(['s3:PutObject']);
    expect(resources(bySid.QuarantineNonImages)).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [source, 'Arn'] }, '/quarantine/*']] }]);
    expect(functionProps(t, 'Pipeline').Environment.Variables.UPLOAD_NOT_AN_IMAGE).toBe('quarantine');
  });

  test('keep (default): no new permission', () => {
    const t = pipeline({ prefix: 'uploads/' });
    const sids = roleStatements(t, 'PipelineRole').map((s) => s.Sid);
    expect(sids).not.toContain('RemoveNonImages');
    expect(sids).not.toContain('QuarantineNonImages');
  });

  test('browsers of the given origins may POST to a created source bucket (CORS)', () => {
    const t = pipeline({ prefix: 'uploads/', uploadOrigins: ['https://photos.example.com'] });
    t.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['POST'], AllowedOrigins: ['https://photos.example.com'] })] },
    });
  });
});
