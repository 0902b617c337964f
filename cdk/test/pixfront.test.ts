import * as path from 'path';
import { App, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EDIT_QUERY_PARAMETERS, PixfrontProps } from '../lib/pixfront';
import { PixfrontStack } from '../lib/stack';

function synth(props: PixfrontProps): Template {
  return Template.fromStack(new PixfrontStack(new App(), 'Test', { pixfront: props }));
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
}

/** Every statement of every identity policy (the Lambda role's and any other role's). */
function identityStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Statement[],
  );
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const allActions = (t: Template) => identityStatements(t).flatMap(actions).sort();

function env(t: Template): Record<string, string> {
  const fns = Object.values(t.findResources('AWS::Lambda::Function'));
  expect(fns).toHaveLength(1);
  return fns[0].Properties.Environment.Variables;
}

function cacheKey(t: Template) {
  const policies = Object.values(t.findResources('AWS::CloudFront::CachePolicy'));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.CachePolicyConfig;
}

/** `arn:${Partition}:s3:::<rest>` as CDK renders it for a bucket given by name. */
const s3Arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${rest}`]] });

const BUCKETS = { sourceBuckets: ['my-originals', 'my-uploads'] };

describe('function-url origin (the default)', () => {
  const t = synth(BUCKETS);

  test('streams through an IAM-authenticated Function URL', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
    expect(env(t).PIXFRONT_LAMBDA_MODE).toBe('streaming');
    expect(env(t).AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH).toBeUndefined();
    t.resourceCountIs('AWS::ApiGateway::RestApi', 0);
  });

  test('CloudFront signs origin requests with a Lambda Origin Access Control', () => {
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only' }) })],
      },
    });
  });

  test('only this distribution may invoke, with both grants a new Function URL needs', () => {
    const perms = Object.values(t.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(perms.map((p) => p.Action).sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
    const distributionArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: Match.stringLikeRegexp('Distribution') }]],
    };
    for (const p of perms) {
      expect(p.Principal).toBe('cloudfront.amazonaws.com');
      expect(p.FunctionUrlAuthType).toBeUndefined(); // no public (NONE) grant
    }
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', SourceArn: distributionArn, InvokedViaFunctionUrl: true });
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', SourceArn: distributionArn });
  });

  test('timeout fits CloudFront\'s 30 s origin read timeout', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30 });
  });
});

describe('apigateway origin (SIH parity)', () => {
  const t = synth({ ...BUCKETS, originType: 'apigateway' });

  test('REST API proxy, binary media types */*, stage image, buffered', () => {
    t.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['*/*'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    t.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'image' });
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
    expect(env(t).PIXFRONT_LAMBDA_MODE).toBe('buffered');
    expect(env(t).AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH).toBe('true');
    t.resourceCountIs('AWS::Lambda::Url', 0);
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
  });

  test('CloudFront reaches the stage over HTTPS', () => {
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [Match.objectLike({ CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only' }) })],
      },
    });
    const distribution = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0];
    const stageId = Object.keys(t.findResources('AWS::ApiGateway::Stage'))[0];
    // `/` + the stage name, taken from the API's URL.
    expect(JSON.stringify(distribution.Properties.DistributionConfig.Origins[0].OriginPath)).toContain(`{"Ref":"${stageId}"}`);
  });

  test('API Gateway always gets an Accept, so it returns image bytes rather than base64 text', () => {
    const origin = (c: Template) =>
      Object.values(c.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig.Origins[0];
    expect(origin(t).OriginCustomHeaders).toEqual([{ HeaderName: 'Accept', HeaderValue: '*/*' }]);
    // With auto format the viewer-request function sets Accept; a custom header would overwrite it.
    const auto = synth({ ...BUCKETS, originType: 'apigateway', autoWebp: true });
    expect(origin(auto).OriginCustomHeaders).toBeUndefined();
    auto.resourceCountIs('AWS::CloudFront::Function', 1);
    expect(origin(synth(BUCKETS)).OriginCustomHeaders).toBeUndefined();
  });

  test('only API Gateway may invoke, and no account-wide CloudWatch role is created', () => {
    for (const p of Object.values(t.findResources('AWS::Lambda::Permission'))) {
      expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(p.Properties.Action).toBe('lambda:InvokeFunction');
    }
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('timeout is API Gateway\'s 29 s', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 29 });
  });
});

describe('cache policy', () => {
  test('key: the edit query parameters (kept by the viewer-request function), no cookies, no headers, no compression', () => {
    const c = synth(BUCKETS);
    const key = cacheKey(c).ParametersInCacheKeyAndForwardedToOrigin;
    expect(key.QueryStringsConfig).toEqual({ QueryStringBehavior: 'all' });
    expect(EDIT_QUERY_PARAMETERS).toEqual([
      'format', 'fit', 'width', 'height', 'rotate', 'flip', 'flop', 'grayscale', 'greyscale', 'blurFaces', 'quality', 'dpr', 'preset',
    ]);
    const fns = Object.values(c.findResources('AWS::CloudFront::Function'));
    expect(fns).toHaveLength(1);
    expect(fns[0].Properties.FunctionCode).toContain(`var KEEP_QUERY = ${JSON.stringify(EDIT_QUERY_PARAMETERS)};`);
    expect(key.CookiesConfig).toEqual({ CookieBehavior: 'none' });
    expect(key.HeadersConfig).toEqual({ HeaderBehavior: 'none' });
    expect(key.EnableAcceptEncodingGzip).toBe(false);
    expect(key.EnableAcceptEncodingBrotli).toBe(false);
    expect(cacheKey(c).MinTTL).toBe(0);
    c.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          Compress: false,
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
          FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: Match.anyValue() }],
        }),
      },
    });
  });

  test('with signatures every parameter is kept: all are part of the signed string', () => {
    const c = synth({ ...BUCKETS, signature: { secretName: 'pixfront/signing', secretKey: 'key' } });
    expect(cacheKey(c).ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig).toEqual({ QueryStringBehavior: 'all' });
    // Nothing for a viewer-request function to do then.
    c.resourceCountIs('AWS::CloudFront::Function', 0);
  });

  test('client hints: CLIENT_HINTS on, the three snapped hints in the key (within the 10-header quota)', () => {
    const c = synth({ ...BUCKETS, clientHints: true, autoAvif: true, corsEnabled: true });
    expect(env(c).CLIENT_HINTS).toBe('Yes');
    const headers = cacheKey(c).ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers;
    expect(headers).toEqual(['Accept', 'Sec-CH-DPR', 'Sec-CH-Width', 'Sec-CH-Viewport-Width', 'Access-Control-Request-Headers']);
    expect(headers.length).toBeLessThanOrEqual(10);
    c.resourceCountIs('AWS::CloudFront::Function', 1);
    const signed = synth({ ...BUCKETS, clientHints: true, signature: { secretName: 's', secretKey: 'k' } });
    signed.resourceCountIs('AWS::CloudFront::Function', 1);
    expect(env(synth(BUCKETS)).CLIENT_HINTS).toBe('No');
  });

  test.each([
    [{ autoWebp: true }, 'AUTO_WEBP'],
    [{ autoAvif: true }, 'AUTO_AVIF'],
  ])('auto format (%o) adds Accept to the key, normalised by a viewer-request function', (auto, name) => {
    const c = synth({ ...BUCKETS, ...auto });
    expect(env(c)[name]).toBe('Yes');
    expect(cacheKey(c).ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: ['Accept'] });
    c.resourceCountIs('AWS::CloudFront::Function', 1);
    c.hasResourceProperties('AWS::CloudFront::Function', { FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }) });
    c.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: Match.anyValue() }],
        }),
      },
    });
  });

  test('errors are cached briefly: 4xx 5 s, 5xx 10 s (never SIH\'s 600 s)', () => {
    const responses = synth(BUCKETS).findResources('AWS::CloudFront::Distribution');
    const errors = Object.values(responses)[0].Properties.DistributionConfig.CustomErrorResponses;
    const ttl = Object.fromEntries(errors.map((e: { ErrorCode: number; ErrorCachingMinTTL: number }) => [e.ErrorCode, e.ErrorCachingMinTTL]));
    expect(ttl).toEqual({ 400: 5, 403: 5, 404: 5, 405: 5, 414: 5, 500: 10, 501: 10, 502: 10, 503: 10, 504: 10 });
    for (const e of errors) expect(e.ResponsePagePath).toBeUndefined();
  });

  test('CORS on: OPTIONS preflights reach pixfront and are cached per requested headers', () => {
    const c = synth({ ...BUCKETS, corsEnabled: true, corsOrigin: 'https://example.com' });
    expect(env(c)).toMatchObject({ CORS_ENABLED: 'Yes', CORS_ORIGIN: 'https://example.com' });
    expect(cacheKey(c).ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({
      HeaderBehavior: 'whitelist',
      Headers: ['Access-Control-Request-Headers'],
    });
    const both = synth({ ...BUCKETS, corsEnabled: true, autoAvif: true });
    expect(cacheKey(both).ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers).toEqual(['Accept', 'Access-Control-Request-Headers']);
    c.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
          CachedMethods: ['GET', 'HEAD', 'OPTIONS'],
        }),
      },
    });
  });

  test('price class, logging bucket and outputs', () => {
    const c = synth({ ...BUCKETS, priceClass: cloudfront.PriceClass.PRICE_CLASS_100, enableLogging: true });
    c.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        PriceClass: 'PriceClass_100',
        Logging: Match.objectLike({ Prefix: 'pixfront-cloudfront/' }),
      }),
    });
    c.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 180 })] },
    });
    const plain = synth(BUCKETS);
    plain.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ PriceClass: 'PriceClass_All', Logging: Match.absent() }),
    });
    plain.resourceCountIs('AWS::S3::Bucket', 0);
    plain.hasOutput('DistributionUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('Distribution'), 'DomainName'] }]] },
    });
  });
});

describe('alternate domain names', () => {
  test('aliases with a us-east-1 certificate and TLS 1.2, as the stack imports it by ARN', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b8e-example';
    const t = Template.fromStack(
      new PixfrontStack(new App(), 'Test', { pixfront: { ...BUCKETS, domainNames: ['images.example.com'] }, certificateArn: arn }),
    );
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['images.example.com'],
        ViewerCertificate: { AcmCertificateArn: arn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
      }),
    });
  });

  test('a domain without certificate is refused', () => {
    expect(() => synth({ ...BUCKETS, domainNames: ['images.example.com'] })).toThrow(/domainNames and certificate/);
  });
});

describe('least privilege', () => {
  const noStar = (t: Template) => {
    for (const s of identityStatements(t)) {
      expect(s.Effect).toBe('Allow');
      for (const a of actions(s)) {
        expect(a).not.toMatch(/\*/); // no s3:*, s3:Get*, logs:* …
      }
      if (actions(s).some((a) => !a.startsWith('rekognition:'))) {
        expect(resources(s)).not.toContain('*');
      }
    }
  };

  test('defaults: read the source buckets and write the own log group, nothing else', () => {
    const t = synth(BUCKETS);
    noStar(t);
    const api = synth({ ...BUCKETS, originType: 'apigateway' });
    noStar(api);
    expect(allActions(api)).toEqual(allActions(t));
    for (const c of [t, api]) c.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(allActions(t)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket']);
    const bySid = Object.fromEntries(identityStatements(t).map((s) => [s.Sid ?? actions(s)[0], s]));
    expect(bySid.ReadOriginals.Resource).toEqual([s3Arn('my-originals/*'), s3Arn('my-uploads/*')]);
    expect(bySid.ListOriginals.Resource).toEqual([s3Arn('my-originals'), s3Arn('my-uploads')]);
    const logArn = bySid['logs:CreateLogStream'].Resource as { 'Fn::GetAtt': string[] };
    expect(logArn['Fn::GetAtt'][0]).toMatch(/^PixfrontLogs/);
    const role = Object.values(t.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('Rekognition only when it is the face detector, and Secrets Manager only for the one secret', () => {
    const local = synth({ ...BUCKETS, faceDetector: 'local' });
    expect(allActions(local).filter((a) => /^(rekognition|secretsmanager):/.test(a))).toEqual([]);
    expect(env(local).FACE_DETECTOR).toBe('local');

    const t = synth({
      ...BUCKETS,
      faceDetector: 'rekognition',
      signature: { secretName: 'pixfront/signing', secretKey: 'hmac' },
    });
    noStar(t);
    const rekognition = identityStatements(t).filter((s) => actions(s).some((a) => a.startsWith('rekognition:')));
    expect(rekognition).toHaveLength(1);
    expect(actions(rekognition[0]).sort()).toEqual(['rekognition:DetectFaces', 'rekognition:DetectModerationLabels']);
    const secrets = identityStatements(t).filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secrets).toHaveLength(1);
    expect(actions(secrets[0])).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets[0].Resource)).toContain(':secret:pixfront/signing-??????');
    expect(env(t)).toMatchObject({
      FACE_DETECTOR: 'rekognition',
      ENABLE_SIGNATURE: 'Yes',
      SECRETS_MANAGER: 'pixfront/signing',
      SECRET_KEY: 'hmac',
    });
  });

  test('a secret given by ARN is granted exactly', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-AbCdEf';
    const t = synth({ ...BUCKETS, signature: { secretName: arn, secretKey: 'k' } });
    const secrets = identityStatements(t).filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    expect(secrets.map((s) => s.Resource)).toEqual([arn]);
  });

  test('fallback image: GetObject on that one object', () => {
    const t = synth({ ...BUCKETS, fallbackImage: { bucket: 'my-assets', key: 'fallback/missing.png' } });
    noStar(t);
    const fallback = identityStatements(t).find((s) => s.Sid === 'ReadFallbackImage');
    expect(fallback?.Resource).toEqual(s3Arn('my-assets/fallback/missing.png'));
    expect(env(t)).toMatchObject({
      ENABLE_DEFAULT_FALLBACK_IMAGE: 'Yes',
      DEFAULT_FALLBACK_IMAGE_BUCKET: 'my-assets',
      DEFAULT_FALLBACK_IMAGE_KEY: 'fallback/missing.png',
    });
  });

  test('no source bucket given: one private bucket is created and only it is readable', () => {
    const t = synth({});
    noStar(t);
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    const bucketId = Object.keys(t.findResources('AWS::S3::Bucket'))[0];
    const read = identityStatements(t).find((s) => s.Sid === 'ReadOriginals');
    expect(read?.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] });
    expect(env(t).SOURCE_BUCKETS).toEqual({ Ref: bucketId });
  });
});

describe('Lambda', () => {
  test('provided.al2023, arm64 by default, 1024 MB, SIH\'s variables', () => {
    const t = synth(BUCKETS);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 1024,
    });
    expect(env(t)).toEqual({
      SOURCE_BUCKETS: 'my-originals,my-uploads',
      CORS_ENABLED: 'No',
      AUTO_WEBP: 'No',
      AUTO_AVIF: 'No',
      CLIENT_HINTS: 'No',
      ENABLE_SIGNATURE: 'No',
      ENABLE_DEFAULT_FALLBACK_IMAGE: 'No',
      FACE_DETECTOR: 'local',
      PIXFRONT_LAMBDA_MODE: 'streaming',
    });
  });

  test('architecture, memory, forced face blur and extra variables', () => {
    const t = synth({
      ...BUCKETS,
      architecture: 'x86_64',
      memorySize: 1769,
      timeout: Duration.seconds(20),
      forceBlurFaces: ['my-uploads', 'my-originals/people/'],
      environment: { MAX_INPUT_PIXELS: '50000000' },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'], MemorySize: 1769, Timeout: 20 });
    expect(env(t)).toMatchObject({ FORCE_BLUR_FACES: 'my-uploads,my-originals/people/', MAX_INPUT_PIXELS: '50000000' });
  });

  test('log group with retention, used by the function', () => {
    const t = synth({ ...BUCKETS, logRetention: logs.RetentionDays.ONE_MONTH });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const groupId = Object.keys(t.findResources('AWS::Logs::LogGroup'))[0];
    t.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: groupId } } });
    synth(BUCKETS).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 180 });
  });

  test('the placeholder code is flagged; a missing artifact is an error naming the build script', () => {
    const stack = new PixfrontStack(new App(), 'Test', { pixfront: BUCKETS });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('placeholder code'));
    expect(() => synth({ ...BUCKETS, codePath: path.join(__dirname, 'no-such-bootstrap.zip') })).toThrow(
      /scripts\/package-lambda arm64/,
    );
    const real = new PixfrontStack(new App(), 'Test', {
      pixfront: { ...BUCKETS, codePath: path.join(__dirname, '..', 'placeholder-lambda') },
    });
    Annotations.fromStack(real).hasNoWarning('*', Match.anyValue());
  });
});

describe('validation', () => {
  test.each<[string, PixfrontProps, RegExp]>([
    ['a forced-blur bucket that is not a source', { ...BUCKETS, forceBlurFaces: ['other-bucket/faces'] }, /not a source bucket/],
    ['a signature without key', { ...BUCKETS, signature: { secretName: 's', secretKey: ' ' } }, /secretName and secretKey/],
    ['a fallback without key', { ...BUCKETS, fallbackImage: { bucket: 'b-b-b', key: '' } }, /bucket and key/],
    ['a variable the construct owns', { ...BUCKETS, environment: { AUTO_WEBP: 'Yes' } }, /environment\.AUTO_WEBP/],
    ['an unknown origin type', { ...BUCKETS, originType: 'alb' as never }, /originType/],
  ])('%s is refused', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
