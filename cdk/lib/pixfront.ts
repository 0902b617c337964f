import { Aws, Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CLIENT_HINT_HEADERS, viewerRequestCode, viewerRequestNeeded } from './accept-function';
import { privateBucket } from './buckets';
import { check, checkEnvironmentSize, cleanList, PixfrontFunctionParts, PixfrontFunctionProps } from './function';
import { Origins, OriginsProps } from './origins';
import { ResultBucket, ResultBucketProps } from './result-bucket';

export { ARCHITECTURES, defaultCodePath, FACE_DETECTORS, LAMBDA_ASSET_ENV, PLACEHOLDER_CODE } from './function';
export type { FaceDetector, LambdaArchitecture } from './function';

/**
 * `apigateway`: SIH's setup (REST API, stage `image`, binary media types, buffered answers, 6 MB
 * cap). `function-url`: a Function URL with response streaming behind CloudFront Origin Access
 * Control (no size cap, no public invoke).
 */
export type OriginType = 'apigateway' | 'function-url';
export const ORIGIN_TYPES: readonly OriginType[] = ['apigateway', 'function-url'];

/**
 * Query parameters that change pixfront's answer when signatures are off: v7's query edits and
 * pixfront's `quality`, `dpr` (src/request/query.rs), `preset` (src/request/presets.rs) and
 * `blurFaces` (docs/faces.md). The viewer-request function drops every other one, so
 * `?utm_source=…` and cache busters share one cache entry.
 */
export const EDIT_QUERY_PARAMETERS: readonly string[] = [
  'format',
  'fit',
  'width',
  'height',
  'rotate',
  'flip',
  'flop',
  'grayscale',
  'greyscale',
  'blurFaces',
  'quality',
  'dpr',
  'preset',
];

/** SIH's SecretsManagerSecretParameter / SecretsManagerKeyParameter. */
export interface SignatureProps {
  /** Name (or full ARN) of an existing Secrets Manager secret holding a JSON object. */
  readonly secretName: string;
  /** The JSON field of that secret holding the HMAC key. */
  readonly secretKey: string;
}

/** SIH's FallbackImageS3BucketParameter / FallbackImageS3KeyParameter. */
export interface FallbackImageProps {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Shared function settings ({@link PixfrontFunctionProps}) apply; here `forceBlurFaces` entries
 * must name source buckets, `logRetention` also applies to CloudFront logs, and `timeout`
 * defaults to 29 s behind API Gateway (its limit), 30 s behind a Function URL (CloudFront's read
 * timeout).
 */
export interface PixfrontProps extends PixfrontFunctionProps, OriginsProps {
  /** @default 'function-url' (no 6 MB cap; `apigateway` for SIH's exact setup) */
  readonly originType?: OriginType;
  /**
   * Existing buckets the function may read (SIH's SourceBucketsParameter); the first is the
   * default bucket. Names of `origins` go here too (an HTTP origin's name gets no S3 permission).
   * Empty or absent: one private bucket is created (and kept on stack deletion).
   */
  readonly sourceBuckets?: string[];
  /** @default false */
  readonly corsEnabled?: boolean;
  /** Access-Control-Allow-Origin when CORS is on. @default '*' */
  readonly corsOrigin?: string;
  /** @default false */
  readonly autoWebp?: boolean;
  /** @default false */
  readonly autoAvif?: boolean;
  /**
   * CLIENT_HINTS: `Sec-CH-DPR`, `Sec-CH-Width` and `Sec-CH-Viewport-Width` fill in what a URL
   * leaves open; the viewer-request function snaps them and they join the cache key.
   * @default false
   */
  readonly clientHints?: boolean;
  /** Require signed URLs, with the key from this secret. @default - signatures off */
  readonly signature?: SignatureProps;
  /** Answer errors with this image (SIH's default fallback image). @default - none */
  readonly fallbackImage?: FallbackImageProps;
  /** @default PriceClass.PRICE_CLASS_ALL (as SIH) */
  readonly priceClass?: cloudfront.PriceClass;
  /** Write CloudFront access logs to a new bucket (or to `logBucket`). @default false */
  readonly enableLogging?: boolean;
  /** Bucket for CloudFront access logs (needs ACLs enabled); implies enableLogging. */
  readonly logBucket?: s3.IBucket;
  /**
   * Alternate domain names of the distribution (e.g. the one an SIH distribution answered on);
   * needs `certificate`.
   */
  readonly domainNames?: string[];
  /** ACM certificate in us-east-1 covering `domainNames`. */
  readonly certificate?: acm.ICertificate;
  /** Store renditions in S3 (RESULT_BUCKET), by default read by CloudFront first. @default - none */
  readonly resultBucket?: ResultBucketProps;
}

const yesNo = (on: boolean | undefined) => (on ? 'Yes' : 'No');

/** pixfront on Lambda behind CloudFront, with the least privilege its settings need. */
export class Pixfront extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly distribution: cloudfront.Distribution;
  readonly cachePolicy: cloudfront.CachePolicy;
  /** SOURCE_BUCKETS: the names requests may choose (buckets and origins), default first. */
  readonly sourceBucketNames: string[];
  /** The bucket created when no source bucket was given. */
  readonly createdSourceBucket?: s3.Bucket;
  /** Present with `originType: 'apigateway'`. */
  readonly restApi?: apigateway.LambdaRestApi;
  /** Present with `originType: 'function-url'`. */
  readonly functionUrl?: lambda.FunctionUrl;
  /** The distribution's origin (the Function URL or the REST API), for extra behaviours. */
  readonly origin: cloudfront.IOrigin;
  /**
   * The viewer-request function (Accept, client hints, query parameters): present unless
   * signatures are on with neither auto format nor client hints.
   */
  readonly viewerRequestFunction?: cloudfront.Function;
  /** Present with `resultBucket`. */
  readonly resultBucket?: ResultBucket;

  constructor(scope: Construct, id: string, props: PixfrontProps = {}) {
    super(scope, id);
    const originType = props.originType ?? 'function-url';
    const logRetention = props.logRetention ?? logs.RetentionDays.SIX_MONTHS;
    this.check(ORIGIN_TYPES.includes(originType), `originType must be one of ${ORIGIN_TYPES.join(', ')}`);

    // Source buckets: existing ones by name, or a new private one; behind the names, the
    // buckets the origins lead to (none for an HTTP origin).
    const given = cleanList(props.sourceBuckets);
    const originSettings = new Origins(this, props, given, props.environment?.ORIGIN_ALLOW_HTTP === 'Yes');
    if (given.length === 0) {
      this.createdSourceBucket = privateBucket(this, 'Originals');
    }
    const buckets = [
      ...(this.createdSourceBucket ? [this.createdSourceBucket as s3.IBucket] : []),
      ...originSettings.storeBuckets(given).map((name, i) => s3.Bucket.fromBucketName(this, `Source${i}`, name)),
    ];
    this.sourceBucketNames = this.createdSourceBucket ? [this.createdSourceBucket.bucketName] : given;

    if (props.signature) {
      this.check(
        props.signature.secretName.trim() !== '' && props.signature.secretKey.trim() !== '',
        'signature needs both secretName and secretKey',
      );
    }
    const domainNames = cleanList(props.domainNames);
    this.check(
      (domainNames.length > 0) === (props.certificate !== undefined),
      'domainNames and certificate go together (CloudFront needs a us-east-1 certificate for its aliases)',
    );
    if (props.fallbackImage) {
      this.check(
        props.fallbackImage.bucket.trim() !== '' && props.fallbackImage.key.trim() !== '',
        'fallbackImage needs both bucket and key',
      );
    }

    const parts = new PixfrontFunctionParts(this, props, 'pixfront image handler');
    parts.checkForceBlurFaces(this.createdSourceBucket ? undefined : given);
    const role = parts.role;
    this.logGroup = parts.logGroup;
    // None when every name is an HTTP origin.
    if (buckets.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadOriginals',
          actions: ['s3:GetObject'],
          resources: buckets.map((b) => b.arnForObjects('*')),
        }),
      );
      // ListBucket turns a missing key into S3's 404 NoSuchKey instead of 403, and lets the
      // health check (HeadBucket) work.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ListOriginals',
          actions: ['s3:ListBucket'],
          resources: buckets.map((b) => b.bucketArn),
        }),
      );
    }
    if (props.fallbackImage) {
      const { bucket, key } = props.fallbackImage;
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadFallbackImage',
          actions: ['s3:GetObject'],
          resources: [`arn:${Aws.PARTITION}:s3:::${bucket}/${key}`],
        }),
      );
    }
    if (props.signature) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSigningKey',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretArn(props.signature.secretName)],
        }),
      );
    }
    const faces = parts.faceEnvironment();

    const environment: Record<string, string> = {
      SOURCE_BUCKETS: this.sourceBucketNames.join(','),
      CORS_ENABLED: yesNo(props.corsEnabled),
      AUTO_WEBP: yesNo(props.autoWebp),
      AUTO_AVIF: yesNo(props.autoAvif),
      CLIENT_HINTS: yesNo(props.clientHints),
      ENABLE_SIGNATURE: yesNo(props.signature !== undefined),
      ENABLE_DEFAULT_FALLBACK_IMAGE: yesNo(props.fallbackImage !== undefined),
      ...faces,
      ...originSettings.environment(),
      PIXFRONT_LAMBDA_MODE: originType === 'apigateway' ? 'buffered' : 'streaming',
    };
    if (props.corsEnabled) environment.CORS_ORIGIN = props.corsOrigin ?? '*';
    if (props.signature) {
      environment.SECRETS_MANAGER = props.signature.secretName;
      environment.SECRET_KEY = props.signature.secretKey;
    }
    if (props.fallbackImage) {
      environment.DEFAULT_FALLBACK_IMAGE_BUCKET = props.fallbackImage.bucket;
      environment.DEFAULT_FALLBACK_IMAGE_KEY = props.fallbackImage.key;
    }
    if (originType === 'apigateway') {
      // pixfront reads the REST event's path, which has no stage; this keeps lambda_http's own
      // request URI stage-free too.
      environment.AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH = 'true';
    }
    if (props.resultBucket) {
      this.check(
        !(props.signature && (props.resultBucket.servedByCloudFront ?? true)),
        'resultBucket served by CloudFront cannot check signatures: set servedByCloudFront: false with signature',
      );
      this.resultBucket = new ResultBucket(this, 'Results', props.resultBucket, { ...environment, ...(props.environment ?? {}) });
      Object.assign(environment, this.resultBucket.environment());
    }
    checkEnvironmentSize(this, { ...environment, ...(props.environment ?? {}) });
    this.function = parts.build({
      description: `pixfront image handler (${originType})`,
      defaultTimeout: Duration.seconds(originType === 'apigateway' ? 29 : 30),
      environment,
    });
    this.resultBucket?.grant(this.function);

    const autoFormat = props.autoWebp === true || props.autoAvif === true;
    let origin: cloudfront.IOrigin;
    if (originType === 'apigateway') {
      this.restApi = new apigateway.LambdaRestApi(this, 'Api', {
        handler: this.function,
        proxy: true,
        description: 'pixfront image handler (CloudFront origin)',
        binaryMediaTypes: ['*/*'],
        endpointTypes: [apigateway.EndpointType.REGIONAL],
        deployOptions: { stageName: 'image' },
        // The account-wide API Gateway logging role is not ours to create.
        cloudWatchRole: false,
      });
      origin = new origins.RestApiOrigin(this.restApi, {
        // API Gateway returns bytes (not the base64 text) when the request's Accept matches a
        // binary media type. Without auto format no viewer Accept reaches the origin, so
        // CloudFront sends this one; with it, the Accept function sets one (which an origin
        // custom header would overwrite).
        customHeaders: autoFormat ? undefined : { Accept: '*/*' },
      });
    } else {
      this.functionUrl = this.function.addFunctionUrl({
        authType: lambda.FunctionUrlAuthType.AWS_IAM,
        invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      });
      origin = origins.FunctionUrlOrigin.withOriginAccessControl(this.functionUrl);
    }

    this.origin = origin;
    const cors = props.corsEnabled === true;
    const clientHints = props.clientHints === true;
    const keyHeaders = [
      ...(autoFormat ? ['Accept'] : []),
      ...(clientHints ? CLIENT_HINT_HEADERS : []),
      ...(cors ? ['Access-Control-Request-Headers'] : []),
    ];
    this.cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: 'pixfront: key on what changes the bytes only',
      // 0: pixfront's `no-store` (health, fail-closed 503s) is honoured. Images carry their own
      // Cache-Control (the original's, else one year).
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      // Accept (normalised) decides the format under auto format, the snapped client hints the
      // size with CLIENT_HINTS (at most 5 names of CloudFront's 10). pixfront's CORS preflight
      // echoes Access-Control-Request-Headers; only preflights carry it, so GETs are not split.
      headerBehavior:
        keyHeaders.length > 0
          ? cloudfront.CacheHeaderBehavior.allowList(...keyHeaders)
          : cloudfront.CacheHeaderBehavior.none(),
      // With signatures on, every query parameter is part of the signed string (SIH v7), so all
      // are kept: an added parameter is a 403, not a silently different URL. Off, the
      // viewer-request function has already dropped all but the edit parameters (a policy
      // allowlist could hold 10 names only). With the result bucket in front, the path alone
      // names a rendition (S3 ignores queries).
      queryStringBehavior: this.resultBucket?.servedByCloudFront
        ? cloudfront.CacheQueryStringBehavior.none()
        : cloudfront.CacheQueryStringBehavior.all(),
      // Images are already compressed.
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    const viewer = {
      avif: props.autoAvif === true,
      webp: props.autoWebp === true,
      clientHints,
      keepQuery: props.signature ? undefined : EDIT_QUERY_PARAMETERS,
    };
    if (viewerRequestNeeded(viewer)) {
      this.viewerRequestFunction = new cloudfront.Function(this, 'ViewerRequest', {
        comment: 'pixfront: Accept, client hints and query parameters reduced to what changes the answer',
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        code: cloudfront.FunctionCode.fromInline(viewerRequestCode(viewer)),
      });
    }

    const logBucket =
      props.logBucket ??
      (props.enableLogging
        ? new s3.Bucket(this, 'CloudFrontLogs', {
            // CloudFront's standard logs are delivered with an ACL.
            objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            encryption: s3.BucketEncryption.S3_MANAGED,
            enforceSSL: true,
            lifecycleRules:
              logRetention === logs.RetentionDays.INFINITE ? [] : [{ expiration: Duration.days(logRetention) }],
          })
        : undefined);

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `pixfront image handler (${originType})`,
      domainNames: domainNames.length > 0 ? domainNames : undefined,
      certificate: props.certificate,
      minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: this.resultBucket ? this.resultBucket.origin(origin) : origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: this.cachePolicy,
        compress: false,
        // pixfront answers CORS preflights itself when CORS is on.
        allowedMethods: cors
          ? cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS
          : cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cors ? cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS : cloudfront.CachedMethods.CACHE_GET_HEAD,
        functionAssociations: this.viewerRequestFunction
          ? [{ function: this.viewerRequestFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }]
          : undefined,
      },
      // Errors are cached briefly: a 4xx for the longer of pixfront's max-age (10 s by default)
      // and 5 s; a 5xx for 10 s (CloudFront ignores no-store on 500/502/503/504; SIH: 600 s).
      errorResponses: [
        ...[400, 403, 404, 405, 414].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(5) })),
        ...[500, 501, 502, 503, 504].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(10) })),
      ],
      enableLogging: logBucket !== undefined,
      logBucket,
      logFilePrefix: logBucket ? 'pixfront-cloudfront/' : undefined,
    });

    if (this.functionUrl) {
      // Function URLs created since October 2025 need lambda:InvokeFunction next to the
      // lambda:InvokeFunctionUrl grant that withOriginAccessControl adds; both are limited to
      // this distribution (and this one to calls through the URL).
      new lambda.CfnPermission(this, 'CloudFrontInvokeFunction', {
        action: 'lambda:InvokeFunction',
        functionName: this.function.functionArn,
        principal: 'cloudfront.amazonaws.com',
        sourceArn: `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${this.distribution.distributionId}`,
        invokedViaFunctionUrl: true,
      });
    }
  }

  private check(ok: boolean, message: string) {
    check(this, ok, message);
  }
}

/**
 * ARN of a secret given by name or ARN. A name gets `-??????`: Secrets Manager appends six random
 * characters to every secret's ARN, and the wildcard must not match other secrets' names.
 */
function secretArn(nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${nameOrArn}-??????`;
}
