import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3objectlambda from 'aws-cdk-lib/aws-s3objectlambda';
import { Construct } from 'constructs';
import { check, checkEnvironmentSize, PixfrontFunctionParts, PixfrontFunctionProps } from './function';
import { overlayObjects } from './renditions';

/**
 * Shared function settings ({@link PixfrontFunctionProps}) apply; `timeout` defaults to (and may
 * not exceed) Object Lambda's 60 s, and `forceBlurFaces` entries must name the bucket.
 */
export interface PixfrontObjectLambdaProps extends PixfrontFunctionProps {
  /** The bucket whose objects are transformed, by name or as a construct. */
  readonly bucket: string | s3.IBucket;
  /**
   * Edits applied to every GET (PIXFRONT_OBJECT_LAMBDA_EDITS), in the canonical vocabulary, e.g.
   * `{blurFaces: true}`; edits in the request's query string come on top.
   * @default - only the request's own edits
   */
  readonly edits?: { readonly [edit: string]: unknown };
  /** Name of the supporting access point (3–50 of a–z, 0–9, -). @default - generated */
  readonly accessPointName?: string;
  /** Name of the Object Lambda access point (3–45 of a–z, 0–9, -). @default - generated */
  readonly objectLambdaAccessPointName?: string;
  /** Publish the Object Lambda access point's CloudWatch request metrics (billed as custom metrics). @default false */
  readonly cloudWatchMetrics?: boolean;
}

/** Object Lambda invokes the transformation for at most this long. */
const OBJECT_LAMBDA_TIMEOUT = Duration.seconds(60);
const ACCESS_POINT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * An S3 Object Lambda access point whose GetObject runs pixfront: every GET through it gets the
 * fixed `edits` (e.g. faces blurred) plus the query-string edits of the request.
 *
 * AWS closed S3 Object Lambda to new customers on 7 November 2025: this construct is for
 * accounts that already use it. Everyone else: the CloudFront construct ({@link Pixfront}) with
 * `forceBlurFaces` gives the same "every image blurred" policy.
 *
 * The function may call `s3-object-lambda:WriteGetObjectResponse` on this access point and
 * nothing else: Object Lambda hands it the original through a presigned URL. Callers need the
 * grants of {@link grantGetObject}.
 */
export class PixfrontObjectLambda extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly bucket: s3.IBucket;
  readonly accessPoint: s3.CfnAccessPoint;
  readonly objectLambdaAccessPoint: s3objectlambda.CfnAccessPoint;
  /** ARN of the Object Lambda access point: what `GetObject` calls name as their bucket. */
  readonly objectLambdaAccessPointArn: string;

  constructor(scope: Construct, id: string, props: PixfrontObjectLambdaProps) {
    super(scope, id);
    check(this, typeof props.bucket === 'object' || (typeof props.bucket === 'string' && props.bucket.trim() !== ''), 'bucket is required (Object Lambda transforms an existing bucket)');
    check(
      this,
      props.timeout === undefined || props.timeout.toSeconds() <= OBJECT_LAMBDA_TIMEOUT.toSeconds(),
      `timeout may not exceed Object Lambda's ${OBJECT_LAMBDA_TIMEOUT.toSeconds()} s`,
    );
    for (const [name, value, max] of [
      ['accessPointName', props.accessPointName, 50],
      ['objectLambdaAccessPointName', props.objectLambdaAccessPointName, 45],
    ] as const) {
      check(
        this,
        value === undefined || (value.length >= 3 && value.length <= max && ACCESS_POINT_NAME.test(value)),
        `${name} "${value}" must be 3–${max} characters of a–z, 0–9 and -, starting and ending with a letter or digit`,
      );
    }
    check(
      this,
      props.edits === undefined || (props.edits !== null && typeof props.edits === 'object' && !Array.isArray(props.edits)),
      'edits must be an object of edits',
    );

    this.bucket = typeof props.bucket === 'string' ? s3.Bucket.fromBucketName(this, 'Bucket', props.bucket.trim()) : props.bucket;
    const parts = new PixfrontFunctionParts(this, props, 'pixfront S3 Object Lambda transformation');
    this.logGroup = parts.logGroup;
    const overlays = overlayObjects([props.edits]);
    const readable = [...new Set([this.bucket.bucketName, ...overlays.map((o) => o.bucket)])];
    parts.checkForceBlurFaces(readable);
    if (overlays.length > 0) {
      // An overlay is read by pixfront itself, not through the presigned URL.
      parts.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadOverlays',
          actions: ['s3:GetObject'],
          resources: overlays.map((o) => `arn:${Aws.PARTITION}:s3:::${o.bucket}/${o.key}`),
        }),
      );
    }

    const environment: Record<string, string> = {
      PIXFRONT_LAMBDA_MODE: 'events',
      ...(props.edits !== undefined ? { PIXFRONT_OBJECT_LAMBDA_EDITS: JSON.stringify(props.edits) } : {}),
      ...(overlays.length > 0 ? { SOURCE_BUCKETS: overlays.map((o) => o.bucket).join(',') } : {}),
      ...parts.faceEnvironment(),
    };
    checkEnvironmentSize(this, { ...environment, ...(props.environment ?? {}) });
    this.function = parts.build({
      description: 'pixfront S3 Object Lambda transformation',
      defaultTimeout: OBJECT_LAMBDA_TIMEOUT,
      environment,
    });

    this.accessPoint = new s3.CfnAccessPoint(this, 'AccessPoint', {
      bucket: this.bucket.bucketName,
      name: props.accessPointName,
      publicAccessBlockConfiguration: {
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
    });
    this.objectLambdaAccessPoint = new s3objectlambda.CfnAccessPoint(this, 'ObjectLambdaAccessPoint', {
      name: props.objectLambdaAccessPointName,
      objectLambdaConfiguration: {
        supportingAccessPoint: this.accessPoint.attrArn,
        // allowedFeatures left empty: no Range or partNumber, a byte range of the original
        // means nothing after a resize (S3 refuses such GETs).
        cloudWatchMetricsEnabled: props.cloudWatchMetrics ?? false,
        transformationConfigurations: [
          { actions: ['GetObject'], contentTransformation: { AwsLambda: { FunctionArn: this.function.functionArn } } },
        ],
      },
    });
    this.objectLambdaAccessPointArn = this.objectLambdaAccessPoint.attrArn;

    // Its own policy rather than the role's default one: the function depends on that one, and
    // the access point on the function.
    new iam.Policy(this, 'WriteGetObjectResponse', {
      roles: [parts.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['s3-object-lambda:WriteGetObjectResponse'],
          resources: [this.objectLambdaAccessPointArn],
        }),
      ],
    });
  }

  /**
   * Lets `grantee` GET through the Object Lambda access point: `s3-object-lambda:GetObject` on
   * it, and — only when called via Object Lambda — `s3:GetObject` through the supporting access
   * point and `lambda:InvokeFunction` on the function (Object Lambda acts with the caller's
   * credentials).
   */
  grantGetObject(grantee: iam.IGrantable): iam.Grant {
    const calledVia = { 'ForAnyValue:StringEquals': { 'aws:CalledVia': ['s3-object-lambda.amazonaws.com'] } };
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3-object-lambda:GetObject'],
      resourceArns: [this.objectLambdaAccessPointArn],
    })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:GetObject'],
          resourceArns: [`${this.accessPoint.attrArn}/object/*`],
          conditions: calledVia,
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['lambda:InvokeFunction'],
          resourceArns: [this.function.functionArn, `${this.function.functionArn}:*`],
          conditions: calledVia,
        }),
      );
  }
}
