import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Rendition } from '../lib/renditions';
import { PixfrontUploadPipeline, PixfrontUploadPipelineProps } from '../lib/upload-pipeline';
import { actions, allStatements, functionProps, resources, roleStatements, s3Arn } from './helpers';

const THUMB: Rendition = {
  name: 'thumb',
  edits: { resize: { width: 300, height: 300, fit: 'cover' } },
  outputFormat: 'webp',
  key: '{dir}/thumb/{stem}.webp',
};
const COVER: Rendition = { name: 'cover', edits: { resize: { width: 800 } }, outputFormat: 'jpeg', key: 'covers/{key}.jpg' };
const BASE: PixfrontUploadPipelineProps = { sourceBucket: 'my-uploads', destinationBucket: 'my-thumbs', renditions: [THUMB] };

function synth(props: Partial<PixfrontUploadPipelineProps>, build?: (stack: Stack) => Partial<PixfrontUploadPipelineProps>): Template {
  const stack = new Stack(new App(), 'Test');
  new PixfrontUploadPipeline(stack, 'Pipeline', { ...BASE, ...props, ...(build ? build(stack) : {}) });
  return Template.fromStack(stack);
}

const env = (t: Template): Record<string, any> => functionProps(t, 'Pipeline').Environment.Variables;
const statementsBySid = (t: Template) =>
  Object.fromEntries(roleStatements(t, 'PipelineRole').map((s) => [s.Sid ?? actions(s)[0], s]));

function queueIds(t: Template) {
  const queues = t.findResources('AWS::SQS::Queue');
  const main = Object.keys(queues).find((id) => id.startsWith('PipelineQueue'))!;
  const dlq = Object.keys(queues).find((id) => id.startsWith('PipelineDeadLetterQueue'))!;
  expect(main).toBeDefined();
  expect(dlq).toBeDefined();
  return { main, dlq, queues };
}

describe('upload pipeline: S3 → SQS (with DLQ) → pixfront → destination bucket', () => {
  const t = synth({});

  test('the function runs in events mode with the renditions document', () => {
    const p = functionProps(t, 'Pipeline');
    expect(p).toMatchObject({ Runtime: 'provided.al2023', Handler: 'bootstrap', Architectures: ['arm64'], Timeout: 60, MemorySize: 1024 });
    expect(env(t)).toEqual({
      PIXFRONT_LAMBDA_MODE: 'events',
      SOURCE_BUCKETS: 'my-uploads',
      PIXFRONT_RENDITIONS: JSON.stringify({
        destinationBucket: 'my-thumbs',
        renditions: [
          { name: 'thumb', edits: { resize: { width: 300, height: 300, fit: 'cover' } }, outputFormat: 'webp', key: '{dir}/thumb/{stem}.webp' },
        ],
      }),
      FACE_DETECTOR: 'local',
    });
  });

  test('ObjectCreated and ObjectRemoved notifications go to the queue, which only this bucket may send to', () => {
    const { main } = queueIds(t);
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'my-uploads',
      NotificationConfiguration: {
        QueueConfigurations: [
          { Events: ['s3:ObjectCreated:*'], QueueArn: { 'Fn::GetAtt': [main, 'Arn'] } },
          { Events: ['s3:ObjectRemoved:*'], QueueArn: { 'Fn::GetAtt': [main, 'Arn'] } },
        ],
      },
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: main }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': s3Arn('my-uploads') } },
          }),
        ]),
      },
    });
  });

  test('queue: encrypted, redrive to the DLQ after 5 receives, visibility 6 × the function timeout', () => {
    const { main, dlq, queues } = queueIds(t);
    expect(queues[main].Properties).toEqual({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(queues[dlq].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    // Both queues refuse plain HTTP.
    for (const id of [main, dlq]) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('event source mapping reports per-message failures', () => {
    const { main } = queueIds(t);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [main, 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^PipelineFunction') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('least privilege: read the uploads, write and delete renditions, consume its own queue', () => {
    const { main } = queueIds(t);
    const bySid = statementsBySid(t);
    expect(Object.keys(bySid).sort()).toEqual(['ReadUploads', 'WriteRenditions', 'logs:CreateLogStream', 'sqs:ReceiveMessage']);
    expect(actions(bySid.ReadUploads)).toEqual(['s3:GetObject']);
    expect(bySid.ReadUploads.Resource).toEqual(s3Arn('my-uploads/*'));
    expect(actions(bySid.WriteRenditions).sort()).toEqual(['s3:DeleteObject', 's3:PutObject']);
    expect(bySid.WriteRenditions.Resource).toEqual(s3Arn('my-thumbs/*'));
    const sqsStatement = bySid['sqs:ReceiveMessage'];
    expect(actions(sqsStatement).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    expect(sqsStatement.Resource).toEqual({ 'Fn::GetAtt': [main, 'Arn'] });
    expect(bySid['logs:CreateLogStream'].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PipelineLogs/), 'Arn'] });
    const role = Object.entries(t.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('PipelineRole'))![1];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('no statement in the stack has a wildcard action or a "*" resource (CDK\'s notification handler included)', () => {
    for (const s of allStatements(t)) {
      expect(s.Effect).toBe('Allow');
      for (const a of actions(s)) expect(a).not.toMatch(/\*/);
      expect(resources(s)).not.toContain('*');
    }
  });
});

describe('filters and settings', () => {
  test('prefix and suffixes narrow the notifications and the read grant alike', () => {
    const t = synth({ prefix: 'incoming/', suffixes: ['.jpg', '.png'] });
    const configs = Object.values(t.findResources('Custom::S3BucketNotifications'))[0].Properties.NotificationConfiguration
      .QueueConfigurations as { Events: string[]; Filter: { Key: { FilterRules: { Name: string; Value: string }[] } } }[];
    const summary = configs.map((c) => `${c.Events[0]} ${c.Filter.Key.FilterRules.map((r) => `${r.Name}=${r.Value}`).sort().join(' ')}`);
    expect(summary.sort()).toEqual([
      's3:ObjectCreated:* prefix=incoming/ suffix=.jpg',
      's3:ObjectCreated:* prefix=incoming/ suffix=.png',
      's3:ObjectRemoved:* prefix=incoming/ suffix=.jpg',
      's3:ObjectRemoved:* prefix=incoming/ suffix=.png',
    ]);
    expect(statementsBySid(t).ReadUploads.Resource).toEqual([s3Arn('my-uploads/incoming/*.jpg'), s3Arn('my-uploads/incoming/*.png')]);
  });

  test('renditions under fixed prefixes may only be written there', () => {
    const t = synth({ renditions: [COVER, { ...COVER, name: 'small', key: 'covers/small/{key}' }, { ...THUMB, key: 'thumbs/{key}' }] });
    expect(statementsBySid(t).WriteRenditions.Resource).toEqual([s3Arn('my-thumbs/covers/*'), s3Arn('my-thumbs/thumbs/*')]);
  });

  test('batch size, batching window, receive count, concurrency and timeout are configurable; visibility follows', () => {
    const t = synth({
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(20),
      maxReceiveCount: 3,
      maxConcurrency: 4,
      timeout: Duration.seconds(120),
      memorySize: 1769,
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const { main, queues } = queueIds(t);
    expect(queues[main].Properties.VisibilityTimeout).toBe(6 * 120 + 20);
    expect(queues[main].Properties.RedrivePolicy.maxReceiveCount).toBe(3);
    expect(functionProps(t, 'Pipeline')).toMatchObject({ Timeout: 120, MemorySize: 1769 });
  });

  test('created buckets: private source and destination, the renditions name the created one', () => {
    const t = synth({ sourceBucket: undefined, destinationBucket: undefined });
    const buckets = t.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets).sort()).toEqual([expect.stringMatching(/^PipelineDestination/), expect.stringMatching(/^PipelineSource/)]);
    for (const b of Object.values(buckets)) {
      expect(b.DeletionPolicy).toBe('Retain');
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    const destId = Object.keys(buckets).find((id) => id.startsWith('PipelineDestination'))!;
    const sourceId = Object.keys(buckets).find((id) => id.startsWith('PipelineSource'))!;
    // The document is joined at deploy time around the created bucket's name.
    expect(JSON.stringify(env(t).PIXFRONT_RENDITIONS)).toContain(`{"Ref":"${destId}"}`);
    expect(env(t).SOURCE_BUCKETS).toEqual({ Ref: sourceId });
    expect(statementsBySid(t).WriteRenditions.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [destId, 'Arn'] }, '/*']] });
  });

  test('a watermark is read from exactly its object, and its bucket is a source for pixfront', () => {
    const t = synth({
      renditions: [{ ...THUMB, edits: { resize: { width: 300 }, overlayWith: { bucket: 'my-assets', key: 'logo.png', wRatio: 20 } } }],
    });
    expect(statementsBySid(t).ReadOverlays.Resource).toEqual(s3Arn('my-assets/logo.png'));
    expect(env(t).SOURCE_BUCKETS).toBe('my-uploads,my-assets');
  });

  test('faces: Rekognition is granted only when it is the detector; forced blur is passed on', () => {
    const t = synth({ faceDetector: 'rekognition', forceBlurFaces: ['my-uploads/people/'] });
    expect(env(t)).toMatchObject({ FACE_DETECTOR: 'rekognition', FORCE_BLUR_FACES: 'my-uploads/people/' });
    expect(actions(statementsBySid(t).DetectFaces).sort()).toEqual(['rekognition:DetectFaces', 'rekognition:DetectModerationLabels']);
    expect(statementsBySid(synth({})).DetectFaces).toBeUndefined();
  });

  test('extra variables are passed; the construct\'s own may not be overridden', () => {
    expect(env(synth({ environment: { MAX_INPUT_PIXELS: '50000000' } })).MAX_INPUT_PIXELS).toBe('50000000');
    expect(() => synth({ environment: { PIXFRONT_RENDITIONS: '{}' } })).toThrow(/environment\.PIXFRONT_RENDITIONS is set by the construct/);
  });
});

describe('recursion: destination = source', () => {
  test.each<[string, Partial<PixfrontUploadPipelineProps>]>([
    ['the same name, no prefix', { destinationBucket: 'my-uploads' }],
    ['a prefix a rendition key can start with ({dir}/…)', { destinationBucket: 'my-uploads', prefix: 'incoming/' }],
    ['a rendition key under the prefix', { destinationBucket: 'my-uploads', prefix: 'incoming/', renditions: [{ ...THUMB, key: 'incoming/thumbs/{key}' }] }],
    ['a prefix under a rendition key\'s literal start', { destinationBucket: 'my-uploads', prefix: 'incoming/', renditions: [{ ...THUMB, key: 'in{key}' }] }],
  ])('refused: %s', (_name, props) => {
    expect(() => synth(props)).toThrow(/destination bucket is the source bucket/);
  });

  test('refused: the same bucket construct for both', () => {
    expect(() =>
      synth({}, (stack) => {
        const bucket = new s3.Bucket(stack, 'Shared');
        return { sourceBucket: bucket, destinationBucket: bucket };
      }),
    ).toThrow(/destination bucket is the source bucket/);
  });

  test('allowed when the prefix keeps every rendition out of the notifications', () => {
    const t = synth({ destinationBucket: 'my-uploads', prefix: 'incoming/', renditions: [{ ...THUMB, key: 'renditions/{key}.webp' }] });
    expect(statementsBySid(t).WriteRenditions.Resource).toEqual(s3Arn('my-uploads/renditions/*'));
    expect(statementsBySid(t).ReadUploads.Resource).toEqual(s3Arn('my-uploads/incoming/*'));
    // pixfront checks the same at start, from the prefix carried in the document.
    expect(JSON.parse(env(t).PIXFRONT_RENDITIONS)).toMatchObject({ destinationBucket: 'my-uploads', sourcePrefix: 'incoming/' });
  });
});

describe('validation', () => {
  test.each<[string, Partial<PixfrontUploadPipelineProps>, RegExp]>([
    ['no renditions', { renditions: [] }, /at least one/],
    ['a rendition that is not an object (from a JSON file)', { renditions: [THUMB, null as never] }, /renditions\[1\]: expected \{name/],
    ['a name used twice', { renditions: [THUMB, { ...THUMB, key: 'x/{key}' }] }, /name "thumb" is used twice/],
    ['an unknown placeholder', { renditions: [{ ...THUMB, key: '{folder}/{stem}.webp' }] }, /unknown placeholder\(s\) \{folder\}/],
    ['a key every upload shares', { renditions: [{ ...THUMB, key: 'thumbs/latest.webp' }] }, /neither \{key\} nor \{stem\}/],
    ['two renditions writing the same keys', { renditions: [THUMB, { ...THUMB, name: 'other' }] }, /also thumb's/],
    ['a leading slash', { renditions: [{ ...THUMB, key: '/thumbs/{key}' }] }, /starts with "\/"/],
    ['a format pixfront cannot write', { renditions: [{ ...THUMB, outputFormat: 'raw' as never }] }, /outputFormat "raw"/],
    ['overlapping suffixes', { suffixes: ['.jpg', 'g'] }, /overlap/],
    ['a receive count of 0', { maxReceiveCount: 0 }, /maxReceiveCount/],
    ['forced blur on a bucket it does not read', { forceBlurFaces: ['other-bucket'] }, /not a source bucket/],
    [
      'variables over Lambda\'s 4 KB',
      { renditions: Array.from({ length: 40 }, (_, i) => ({ ...THUMB, name: `r${i}`, key: `r${i}/{key}` })) },
      /Lambda allows 4096/,
    ],
  ])('%s is refused at synth', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('{name} makes one template serve several renditions', () => {
    expect(() => synth({ renditions: [{ ...THUMB, key: '{name}/{key}' }, { ...COVER, key: '{name}/{key}' }] })).not.toThrow();
  });

});
