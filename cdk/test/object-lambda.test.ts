import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PixfrontObjectLambda, PixfrontObjectLambdaProps } from '../lib/object-lambda';
import { actions, allStatements, functionProps, roleStatements, s3Arn } from './helpers';

const BASE: PixfrontObjectLambdaProps = { bucket: 'my-private-photos', edits: { blurFaces: true } };

function synth(props: Partial<PixfrontObjectLambdaProps>): Template {
  const stack = new Stack(new App(), 'Test');
  new PixfrontObjectLambda(stack, 'Olap', { ...BASE, ...props });
  return Template.fromStack(stack);
}

const logicalId = (t: Template, type: string) => {
  const ids = Object.keys(t.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('S3 Object Lambda access point', () => {
  const t = synth({});

  test('supporting access point on the bucket, private', () => {
    t.hasResourceProperties('AWS::S3::AccessPoint', {
      Bucket: 'my-private-photos',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  test('GetObject through the Object Lambda access point runs the function; no ranges', () => {
    const ap = logicalId(t, 'AWS::S3::AccessPoint');
    const fn = Object.keys(t.findResources('AWS::Lambda::Function'))[0];
    t.hasResourceProperties('AWS::S3ObjectLambda::AccessPoint', {
      ObjectLambdaConfiguration: {
        SupportingAccessPoint: { 'Fn::GetAtt': [ap, 'Arn'] },
        TransformationConfigurations: [
          { Actions: ['GetObject'], ContentTransformation: { AwsLambda: { FunctionArn: { 'Fn::GetAtt': [fn, 'Arn'] } } } },
        ],
        AllowedFeatures: Match.absent(),
        CloudWatchMetricsEnabled: false,
      },
    });
  });

  test('the function: events mode, the fixed edits, faces settings, 60 s', () => {
    expect(functionProps(t, 'Olap')).toMatchObject({
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: {
        Variables: { PIXFRONT_LAMBDA_MODE: 'events', PIXFRONT_OBJECT_LAMBDA_EDITS: '{"blurFaces":true}', FACE_DETECTOR: 'local' },
      },
    });
    const vars = functionProps(synth({ edits: undefined }), 'Olap').Environment.Variables;
    expect(vars.PIXFRONT_OBJECT_LAMBDA_EDITS).toBeUndefined();
  });

  test('least privilege: WriteGetObjectResponse on this access point, its logs, nothing else', () => {
    const olap = logicalId(t, 'AWS::S3ObjectLambda::AccessPoint');
    const statements = roleStatements(t, 'OlapRole');
    expect(statements.flatMap(actions).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 's3-object-lambda:WriteGetObjectResponse']);
    const write = statements.find((s) => actions(s).includes('s3-object-lambda:WriteGetObjectResponse'))!;
    expect(write.Resource).toEqual({ 'Fn::GetAtt': [olap, 'Arn'] });
    // No s3:GetObject: the original arrives through the presigned inputS3Url.
    for (const s of allStatements(t)) expect(s.Resource).not.toEqual('*');
    t.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  test('the grant is its own policy: in the role\'s default one it would close a dependency cycle', () => {
    // Template.fromStack (above) refuses a template with a cycle; this shows the cycle it avoids.
    const stack = new Stack(new App(), 'Test');
    const olap = new PixfrontObjectLambda(stack, 'Olap', BASE);
    olap.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3-object-lambda:WriteGetObjectResponse'], resources: [olap.objectLambdaAccessPointArn] }),
    );
    expect(() => Template.fromStack(stack)).toThrow(/dependency cycle/);
  });
});

describe('settings', () => {
  test('names, metrics, timeout, Rekognition and forced blur', () => {
    const t = synth({
      accessPointName: 'photos-supporting',
      objectLambdaAccessPointName: 'photos-blurred',
      cloudWatchMetrics: true,
      timeout: Duration.seconds(45),
      faceDetector: 'rekognition',
      forceBlurFaces: ['my-private-photos/people'],
    });
    t.hasResourceProperties('AWS::S3::AccessPoint', { Name: 'photos-supporting' });
    t.hasResourceProperties('AWS::S3ObjectLambda::AccessPoint', {
      Name: 'photos-blurred',
      ObjectLambdaConfiguration: Match.objectLike({ CloudWatchMetricsEnabled: true }),
    });
    expect(functionProps(t, 'Olap')).toMatchObject({
      Timeout: 45,
      Environment: { Variables: { FACE_DETECTOR: 'rekognition', FORCE_BLUR_FACES: 'my-private-photos/people' } },
    });
    const detect = roleStatements(t, 'OlapRole').find((s) => s.Sid === 'DetectFaces')!;
    expect(actions(detect).sort()).toEqual(['rekognition:DetectFaces', 'rekognition:DetectModerationLabels']);
  });

  test('a watermark in the fixed edits is read from exactly its object', () => {
    const t = synth({ edits: { overlayWith: { bucket: 'my-assets', key: 'logo.png' } } });
    const read = roleStatements(t, 'OlapRole').find((s) => s.Sid === 'ReadOverlays')!;
    expect(read.Resource).toEqual(s3Arn('my-assets/logo.png'));
    expect(functionProps(t, 'Olap').Environment.Variables.SOURCE_BUCKETS).toBe('my-assets');
  });

  test.each<[string, Partial<PixfrontObjectLambdaProps>, RegExp]>([
    ['a timeout over 60 s', { timeout: Duration.seconds(61) }, /Object Lambda's 60 s/],
    ['an upper-case access point name', { objectLambdaAccessPointName: 'Photos' }, /objectLambdaAccessPointName "Photos"/],
    ['a 46-character Object Lambda access point name', { objectLambdaAccessPointName: 'a'.repeat(46) }, /3–45 characters/],
    ['a supporting access point name ending in -', { accessPointName: 'photos-' }, /accessPointName "photos-"/],
    ['edits that are a list', { edits: [] as never }, /edits must be an object/],
    ['no bucket', { bucket: '' }, /bucket is required/],
    ['forced blur on another bucket', { forceBlurFaces: ['other-bucket'] }, /not a source bucket/],
  ])('%s is refused', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('grantGetObject', () => {
  test('the caller may GET through the Object Lambda access point; the rest only via Object Lambda', () => {
    const stack = new Stack(new App(), 'Test');
    const olap = new PixfrontObjectLambda(stack, 'Olap', BASE);
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    olap.grantGetObject(reader);
    const t = Template.fromStack(stack);
    const olapId = logicalId(t, 'AWS::S3ObjectLambda::AccessPoint');
    const apId = logicalId(t, 'AWS::S3::AccessPoint');
    const fnId = Object.keys(t.findResources('AWS::Lambda::Function'))[0];
    const calledVia = { 'ForAnyValue:StringEquals': { 'aws:CalledVia': ['s3-object-lambda.amazonaws.com'] } };
    const statements = roleStatements(t, 'Reader');
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 's3-object-lambda:GetObject', Resource: { 'Fn::GetAtt': [olapId, 'Arn'] } },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [apId, 'Arn'] }, '/object/*']] },
        Condition: calledVia,
      },
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] }],
        Condition: calledVia,
      },
    ]);
  });
});
