import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { buildApp, ContextKey, propsFromContext } from '../lib/context';
import { DOC_TEMPLATES, DOC_TEMPLATE_DIR, renderTemplate, synthTemplate } from '../lib/doc-templates';

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

describe('docs/cdk templates', () => {
  test.each(Object.entries(DOC_TEMPLATES))('%s is what the app synthesizes (else: npm run templates)', (file, context) => {
    const synthesized = renderTemplate(synthTemplate(context));
    const committed = fs.readFileSync(path.join(DOC_TEMPLATE_DIR, file), 'utf8');
    expect(committed).toBe(synthesized);
  });

  test('one template per origin type', () => {
    expect(Object.values(DOC_TEMPLATES).map((c) => c.originType).sort()).toEqual(['apigateway', 'function-url']);
  });
});
