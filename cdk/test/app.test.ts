import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { buildApp, ContextKey, eventPropsFromContext, propsFromContext } from '../lib/context';
import { DOC_TEMPLATES, DOC_TEMPLATE_DIR, RENDITIONS_EXAMPLE, renderTemplate, synthTemplate } from '../lib/doc-templates';

const fromContext = (ctx: Partial<Record<ContextKey, unknown>>) => propsFromContext((k) => ctx[k]);

describe('cdk -c key=value (SIH parameters)', () => {
  test('SIH-style values become construct props', () => {
    expect(
      fromContext({
        originType: 'apigateway',
        sourceBuckets: ' my-originals , my-uploads ',
        corsEnabled: 'Yes',
        corsOrigin: 'https://example.com',
        autoWebp: 'Yes',
        autoAvif: 'no',
        enableSignature: 'Yes',
        secretsManagerSecret: 'pixfront/signing',
        secretsManagerKey: 'hmac',
        enableDefaultFallbackImage: 'Yes',
        fallbackImageS3Bucket: 'my-assets',
        fallbackImageS3Key: 'missing.png',
        logRetentionDays: '30',
        priceClass: 'PriceClass_100',
        enableLogging: 'true',
        faceDetector: 'rekognition',
        forceBlurFaces: 'my-uploads,my-originals/people',
        architecture: 'x86_64',
        memorySize: '1769',
        domainNames: 'images.example.com',
      }),
    ).toEqual({
      originType: 'apigateway',
      sourceBuckets: ['my-originals', 'my-uploads'],
      corsEnabled: true,
      corsOrigin: 'https://example.com',
      autoWebp: true,
      autoAvif: false,
      signature: { secretName: 'pixfront/signing', secretKey: 'hmac' },
      fallbackImage: { bucket: 'my-assets', key: 'missing.png' },
      logRetention: 30,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      faceDetector: 'rekognition',
      forceBlurFaces: ['my-uploads', 'my-originals/people'],
      architecture: 'x86_64',
      memorySize: 1769,
      domainNames: ['images.example.com'],
    });
  });

  test('cdk.json may hold JSON values; empty ones mean the default', () => {
    const props = fromContext({ sourceBuckets: ['a-bucket', 'b-bucket'], autoWebp: true, memorySize: 2048, corsOrigin: '' });
    expect(props.sourceBuckets).toEqual(['a-bucket', 'b-bucket']);
    expect(props.autoWebp).toBe(true);
    expect(props.memorySize).toBe(2048);
    expect(props.corsOrigin).toBeUndefined();
    expect(fromContext({ enableSignature: 'No', secretsManagerSecret: 'ignored' }).signature).toBeUndefined();
  });

  test.each<[Partial<Record<ContextKey, unknown>>, RegExp]>([
    [{ autoWebp: 'maybe' }, /autoWebp: expected Yes or No/],
    [{ originType: 'alb' }, /originType: expected one of apigateway, function-url/],
    [{ architecture: 'arm' }, /architecture/],
    [{ logRetentionDays: '42' }, /logRetentionDays: 42 is not a CloudWatch retention/],
    [{ priceClass: 'cheap' }, /priceClass/],
    [{ memorySize: '1GB' }, /memorySize: expected a whole number/],
    [{ enableSignature: 'Yes', secretsManagerSecret: 's' }, /secretsManagerKey/],
    [{ enableDefaultFallbackImage: 'Yes' }, /fallbackImageS3Bucket/],
  ])('%o is refused', (ctx, message) => {
    expect(() => fromContext(ctx)).toThrow(message);
  });

  test('the app builds one stack from context, named by stackName', () => {
    const app = new App({ context: { stackName: 'Images', originType: 'apigateway', sourceBuckets: 'my-originals' } });
    const stack = buildApp(app);
    expect(stack.stackName).toBe('Images');
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::RestApi', 1);
    Template.fromStack(stack).resourceCountIs('AWS::CDK::Metadata', 0);
    const withDomain = buildApp(
      new App({ context: { domainNames: 'img.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' } }),
    );
    Template.fromStack(withDomain).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Aliases: ['img.example.com'], ViewerCertificate: { AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' } },
    });
  });
});

const eventsFromContext = (ctx: Partial<Record<ContextKey, unknown>>) => eventPropsFromContext((k) => ctx[k]);

describe('cdk -c key=value: upload pipeline and Object Lambda (opt-in)', () => {
  test('absent or No: neither is added', () => {
    expect(eventsFromContext({})).toEqual({});
    expect(eventsFromContext({ uploadPipeline: 'No', objectLambda: 'No', objectLambdaBucket: 'b' })).toEqual({});
  });

  test('uploadPipeline=Yes reads the renditions file; its destinationBucket is the destination', () => {
    const example = JSON.parse(fs.readFileSync(RENDITIONS_EXAMPLE, 'utf8'));
    const shared = { architecture: 'x86_64' as const, faceDetector: 'rekognition' as const };
    const { uploadPipeline } = eventPropsFromContext(
      (k) =>
        ({
          uploadPipeline: 'Yes',
          renditions: RENDITIONS_EXAMPLE,
          uploadSourceBucket: 'my-uploads',
          uploadPrefix: 'incoming/',
          uploadSuffixes: '.jpg, .png',
          uploadBatchSize: '5',
          uploadMaxReceiveCount: '3',
        })[k as string],
      shared,
    );
    expect(uploadPipeline).toEqual({
      ...shared,
      renditions: example.renditions,
      destinationBucket: 'my-renditions',
      sourceBucket: 'my-uploads',
      prefix: 'incoming/',
      suffixes: ['.jpg', '.png'],
      batchSize: 5,
      maxReceiveCount: 3,
    });
  });

  test('inline renditions without destinationBucket: the construct creates one', () => {
    const { uploadPipeline } = eventsFromContext({
      uploadPipeline: 'Yes',
      renditions: '{"renditions": [{"name": "t", "key": "t/{key}"}]}',
    });
    expect(uploadPipeline?.destinationBucket).toBeUndefined();
    expect(uploadPipeline?.renditions).toEqual([{ name: 't', key: 't/{key}' }]);
  });

  test('objectLambda=Yes: bucket, edits (inline JSON or an object in cdk.json) and name', () => {
    expect(
      eventsFromContext({ objectLambda: 'Yes', objectLambdaBucket: 'photos', objectLambdaEdits: '{"blurFaces": true}', objectLambdaAccessPointName: 'blurred' })
        .objectLambda,
    ).toEqual({ bucket: 'photos', edits: { blurFaces: true }, objectLambdaAccessPointName: 'blurred' });
    expect(eventsFromContext({ objectLambda: 'Yes', objectLambdaBucket: 'photos', objectLambdaEdits: { blurFaces: true } }).objectLambda?.edits).toEqual({
      blurFaces: true,
    });
  });

  test.each<[Partial<Record<ContextKey, unknown>>, RegExp]>([
    [{ uploadPipeline: 'Yes' }, /needs renditions/],
    [{ uploadPipeline: 'Yes', renditions: 'no-such-file.json' }, /neither inline JSON nor a readable file/],
    [{ uploadPipeline: 'Yes', renditions: '{"renditions": [' }, /renditions: not valid JSON/],
    [{ uploadPipeline: 'Yes', renditions: '{"renditions": {}}' }, /must be a list/],
    [{ uploadPipeline: 'Yes', renditions: '{"renditions": [], "sourcePrefix": "x"}' }, /unknown field\(s\) sourcePrefix/],
    [{ uploadPipeline: 'Yes', renditions: '{"renditions": [], "destinationBucket": 3}' }, /destinationBucket/],
    [{ uploadPipeline: 'Yes', renditions: '{"renditions": []}', uploadBatchSize: 'ten' }, /uploadBatchSize: expected a whole number/],
    [{ objectLambda: 'Yes' }, /needs objectLambdaBucket/],
    [{ objectLambda: 'Yes', objectLambdaBucket: 'b', objectLambdaEdits: '{"blurFaces": tru}' }, /objectLambdaEdits: not valid JSON/],
    [{ objectLambda: 'maybe' }, /objectLambda: expected Yes or No/],
  ])('%o is refused', (ctx, message) => {
    expect(() => eventsFromContext(ctx)).toThrow(message);
  });

  test('the app adds both next to the image handler, sharing its function settings', () => {
    const app = new App({
      context: {
        sourceBuckets: 'my-originals',
        architecture: 'x86_64',
        uploadPipeline: 'Yes',
        renditions: RENDITIONS_EXAMPLE,
        uploadSourceBucket: 'my-uploads',
        objectLambda: 'Yes',
        objectLambdaBucket: 'my-private-photos',
      },
    });
    const stack = buildApp(app);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 4); // image handler, pipeline, Object Lambda, CDK's notification handler
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.resourceCountIs('AWS::S3ObjectLambda::AccessPoint', 1);
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'provided.al2023' } }))) {
      expect(fn.Properties.Architectures).toEqual(['x86_64']);
    }
    expect(Object.keys(t.findOutputs('*')).sort()).toEqual([
      'ApiEndpoint',
      'DashboardName',
      'DistributionUrl',
      'LogGroupName',
      'ObjectLambdaAccessPointAlias',
      'ObjectLambdaAccessPointArn',
      'RenditionsBucket',
      'SourceBuckets',
      'UploadBucket',
      'UploadDeadLetterQueueUrl',
    ]);
    expect(t.toJSON().Description).toBe('pixfront image handler behind CloudFront (function-url origin), with upload pipeline and S3 Object Lambda');
  });
});

describe('docs/cdk templates', () => {
  test.each(Object.entries(DOC_TEMPLATES))('%s is what the app synthesizes (else: npm run templates)', (file, context) => {
    const synthesized = renderTemplate(synthTemplate(context));
    const committed = fs.readFileSync(path.join(DOC_TEMPLATE_DIR, file), 'utf8');
    expect(committed).toBe(synthesized);
  });

  test('every origin type and each event front end has a template', () => {
    const contexts = Object.values(DOC_TEMPLATES);
    expect([...new Set(contexts.map((c) => c.originType))].sort()).toEqual(['apigateway', 'function-url']);
    expect(contexts.filter((c) => c.uploadPipeline === 'Yes')).toHaveLength(1);
    expect(contexts.filter((c) => c.objectLambda === 'Yes')).toHaveLength(1);
  });
});
