import { Aws, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bucketOrNew } from './buckets';
import { check, checkEnvironmentSize, cleanList, PixfrontFunctionParts, PixfrontFunctionProps } from './function';
import {
  destinationPrefixes,
  keyTemplatePrefix,
  overlayObjects,
  Rendition,
  renditionProblems,
  renditionsDocument,
} from './renditions';
import { allowPresignedUploads, renditionsDistribution } from './renditions-delivery';

/**
 * Shared function settings ({@link PixfrontFunctionProps}) apply; `timeout` defaults to 60 s
 * (the queue's visibility timeout follows it) and `forceBlurFaces` entries must name the source
 * bucket.
 */
export interface PixfrontUploadPipelineProps extends PixfrontFunctionProps {
  /** The renditions written for every upload (PIXFRONT_RENDITIONS). */
  readonly renditions: Rendition[];
  /**
   * The bucket whose uploads are rendered: an existing one (name or construct) or, absent, a
   * new private one. Its other event notifications are kept; one overlapping these (same
   * events, overlapping prefix and suffix) makes S3 refuse the deployment.
   */
  readonly sourceBucket?: string | s3.IBucket;
  /** Only keys starting with this are rendered. @default - every key */
  readonly prefix?: string;
  /**
   * Only keys ending with one of these are rendered (case-sensitive, as S3 matches them; list
   * `.jpg` and `.JPG` if both occur). One notification per suffix. @default - every key
   */
  readonly suffixes?: string[];
  /**
   * Where renditions are written: an existing bucket (name or construct) or, absent, a new
   * private one. It must not be the source bucket unless `prefix` keeps every rendition key out
   * of the notifications (else renditions would be rendered again, forever).
   */
  readonly destinationBucket?: string | s3.IBucket;
  /** Messages per invocation (1–10, or up to 10 000 with `maxBatchingWindow`). @default 10 */
  readonly batchSize?: number;
  /** How long Lambda gathers messages before invoking. @default - none */
  readonly maxBatchingWindow?: Duration;
  /** Deliveries of a message before it moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Most concurrent invocations the queue drives (2–1000). @default - Lambda's own scaling */
  readonly maxConcurrency?: number;
  /** How long failed messages stay in the dead-letter queue. @default 14 days (SQS's maximum) */
  readonly deadLetterRetention?: Duration;
  /**
   * Deliver renditions over HTTPS: a CloudFront distribution in front of the destination bucket
   * (Origin Access Control; the bucket stays private), output as `RenditionsUrl`. An existing
   * destination bucket given by name cannot be given the OAC bucket policy here: add it yourself.
   * @default false
   */
  readonly deliverRenditions?: boolean;
  /** Price class of the renditions distribution. @default PRICE_CLASS_ALL */
  readonly renditionsPriceClass?: cloudfront.PriceClass;
  /**
   * An upload that is not an image is acknowledged (never retried) and then `keep`: left as is;
   * `delete`: removed; `quarantine`: moved under `quarantine/` in the source bucket.
   * @default 'keep'
   */
  readonly notAnImage?: 'keep' | 'delete' | 'quarantine';
  /**
   * Web origins (`https://example.com`) whose pages may POST presigned uploads to a source
   * bucket this construct creates (S3 CORS). @default - none
   */
  readonly uploadOrigins?: string[];
  /**
   * Used by {@link PixfrontStack}: the upload pages and presigned uploads on its image function
   * ({@link PixfrontUploadPipeline.allowPresignedUploads}). @default - none
   */
  readonly uploadPages?: { readonly tokenSecretField?: string };
}

/**
 * Renditions written on upload: S3 notifications (ObjectCreated, ObjectRemoved) → SQS queue with
 * a dead-letter queue → pixfront (`PIXFRONT_LAMBDA_MODE=events`, partial batch responses) →
 * PutObject / DeleteObject in the destination bucket. The function may read the source keys the
 * notifications cover, write and delete in the destination, consume its queue and nothing more.
 */
export class PixfrontUploadPipeline extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly sourceBucket: s3.IBucket;
  readonly destinationBucket: s3.IBucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds a message (no action attached: add yours). */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** With `deliverRenditions`: the distribution renditions are read through, and its URL. */
  readonly renditionsDistribution?: cloudfront.Distribution;
  readonly renditionsUrl?: string;
  private readonly prefix: string;
  private renditionsJson = '';

  constructor(scope: Construct, id: string, props: PixfrontUploadPipelineProps) {
    super(scope, id);
    const problems = renditionProblems(props.renditions ?? []);
    check(this, problems.length === 0, problems.join('; '));
    const prefix = props.prefix ?? '';
    const suffixes = cleanList(props.suffixes);
    for (const s of suffixes) {
      const overlapping = suffixes.find((o) => o !== s && s.endsWith(o));
      check(
        this,
        overlapping === undefined,
        `suffixes "${overlapping}" and "${s}" overlap (a key ending in "${s}" ends in "${overlapping}"): S3 refuses overlapping notifications`,
      );
    }
    this.prefix = prefix;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    check(this, Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 1000, 'maxReceiveCount must be 1–1000');

    const source = bucketOrNew(this, 'Source', props.sourceBucket);
    const destination = bucketOrNew(this, 'Destination', props.destinationBucket);
    this.sourceBucket = source.bucket;
    this.destinationBucket = destination.bucket;
    if (this.sourceBucket.bucketName === this.destinationBucket.bucketName) {
      // A rendition key that could start with the notification prefix would be an upload again.
      const reachable = props.renditions.map((r) => r.key).filter((k) => {
        const literal = keyTemplatePrefix(k);
        return literal.startsWith(prefix) || prefix.startsWith(literal);
      });
      check(
        this,
        prefix !== '' && reachable.length === 0,
        `the destination bucket is the source bucket: renditions would be rendered again, forever. ` +
          `Use another destination, or a source prefix no rendition key can start with` +
          (prefix === '' ? '' : ` (with prefix "${prefix}", ${reachable.map((k) => `"${k}"`).join(', ')} can)`),
      );
    }

    const parts = new PixfrontFunctionParts(this, props, 'pixfront upload pipeline (renditions)');
    this.logGroup = parts.logGroup;
    const overlays = overlayObjects(props.renditions.map((r) => r.edits));
    const readable = [...new Set([this.sourceBucket.bucketName, ...overlays.map((o) => o.bucket)])];
    parts.checkForceBlurFaces(readable);

    parts.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadUploads',
        actions: ['s3:GetObject'],
        resources: (suffixes.length > 0 ? suffixes : ['']).map((s) => this.sourceBucket.arnForObjects(`${prefix}*${s}`)),
      }),
    );
    if (overlays.length > 0) {
      parts.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadOverlays',
          actions: ['s3:GetObject'],
          resources: overlays.map((o) => `arn:${Aws.PARTITION}:s3:::${o.bucket}/${o.key}`),
        }),
      );
    }
    parts.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteRenditions',
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: destinationPrefixes(props.renditions).map((p) => this.destinationBucket.arnForObjects(`${p}*`)),
      }),
    );

    const notAnImage = props.notAnImage ?? 'keep';
    check(this, ['keep', 'delete', 'quarantine'].includes(notAnImage), 'notAnImage must be keep, delete or quarantine');
    if (notAnImage !== 'keep') {
      parts.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'RemoveNonImages',
          actions: ['s3:DeleteObject'],
          resources: (suffixes.length > 0 ? suffixes : ['']).map((s) => this.sourceBucket.arnForObjects(`${prefix}*${s}`)),
        }),
      );
    }
    if (notAnImage === 'quarantine') {
      parts.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'QuarantineNonImages',
          actions: ['s3:PutObject'],
          resources: [this.sourceBucket.arnForObjects('quarantine/*')],
        }),
      );
    }
    if (props.uploadOrigins && props.uploadOrigins.length > 0) {
      check(this, source.created, 'uploadOrigins: CORS can only be set on a source bucket this construct creates');
      (this.sourceBucket as s3.Bucket).addCorsRule({
        allowedMethods: [s3.HttpMethods.POST],
        allowedOrigins: props.uploadOrigins,
        allowedHeaders: ['*'],
        maxAge: 3000,
      });
    }
    if (props.deliverRenditions) {
      this.renditionsDistribution = renditionsDistribution(this, this.destinationBucket, props.renditionsPriceClass);
      this.renditionsUrl = `https://${this.renditionsDistribution.distributionDomainName}`;
      new CfnOutput(this, 'RenditionsUrl', { value: this.renditionsUrl, description: 'Renditions are read here (HTTPS, cached)' });
    }

    const document = renditionsDocument(this.destinationBucket.bucketName, props.renditions, prefix);
    const environment: Record<string, string> = {
      PIXFRONT_LAMBDA_MODE: 'events',
      SOURCE_BUCKETS: readable.join(','),
      // toJsonString: the destination's name may be a reference to a created bucket.
      PIXFRONT_RENDITIONS: (this.renditionsJson = Stack.of(this).toJsonString(document)),
      ...parts.faceEnvironment(),
      ...(notAnImage !== 'keep' ? { UPLOAD_NOT_AN_IMAGE: notAnImage } : {}),
    };
    checkEnvironmentSize(this, { ...environment, PIXFRONT_RENDITIONS: JSON.stringify(document), ...(props.environment ?? {}) });
    this.function = parts.build({
      description: 'pixfront upload pipeline (renditions)',
      defaultTimeout: Duration.seconds(60),
      environment,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    // Lambda's advice for SQS sources: at least six times the function's timeout (plus the
    // batching window), so a message is not handed out again while a slow batch still runs.
    const timeout = this.function.timeout ?? Duration.seconds(60);
    const visibilityTimeout = Duration.seconds(6 * timeout.toSeconds() + (props.maxBatchingWindow?.toSeconds() ?? 0));
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    // ObjectRemoved removes the renditions of a deleted original.
    const destinationQueue = new s3n.SqsDestination(this.queue);
    const filters: s3.NotificationKeyFilter[] =
      suffixes.length > 0
        ? suffixes.map((suffix) => ({ prefix: prefix || undefined, suffix }))
        : prefix
          ? [{ prefix }]
          : [{}];
    for (const event of [s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED]) {
      for (const filter of filters) {
        if (filter.prefix || filter.suffix) this.sourceBucket.addEventNotification(event, destinationQueue, filter);
        else this.sourceBucket.addEventNotification(event, destinationQueue);
      }
    }

    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow,
        maxConcurrency: props.maxConcurrency,
        // pixfront answers {"batchItemFailures": […]}: only the failed uploads come back.
        reportBatchItemFailures: true,
      }),
    );

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'pixfront upload pipeline: uploads that could not be rendered (see the function log, then redrive)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Lets `fn` (the pixfront HTTP function) serve the upload pages and hand out presigned POSTs
   * for this pipeline's source bucket: PutObject under the source prefix only (which therefore
   * must be set), the gallery linking renditions through the distribution when there is one.
   * `tokenSecretField`: the field of the function's `SECRETS_MANAGER` secret holding the upload
   * token.
   */
  allowPresignedUploads(fn: lambda.Function, tokenSecretField?: string): void {
    check(this, this.prefix !== '', 'presigned uploads need a source prefix: PutObject is granted under it only');
    allowPresignedUploads(fn, {
      bucket: this.sourceBucket,
      prefix: this.prefix,
      renditionsUrl: this.renditionsUrl,
      tokenSecretField,
      renditionsDocument: this.renditionsJson,
    });
  }
}
