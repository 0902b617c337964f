import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The renditions bucket behind CloudFront: read through Origin Access Control only (the bucket
 * stays private: no public access, no ACLs, no website endpoint), HTTPS only, cached long
 * (renditions never change under a key: a new upload gets a new key, a re-upload of the same
 * key renders the same edits).
 */
export function renditionsDistribution(scope: Construct, bucket: s3.IBucket, priceClass?: cloudfront.PriceClass): cloudfront.Distribution {
  const cachePolicy = new cloudfront.CachePolicy(scope, 'RenditionsCachePolicy', {
    comment: 'pixfront renditions: the object key alone, kept up to a year',
    defaultTtl: Duration.days(365),
    maxTtl: Duration.days(365),
    minTtl: Duration.seconds(0),
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    headerBehavior: cloudfront.CacheHeaderBehavior.none(),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
    // Images are compressed already.
    enableAcceptEncodingGzip: false,
    enableAcceptEncodingBrotli: false,
  });
  return new cloudfront.Distribution(scope, 'RenditionsDistribution', {
    comment: 'pixfront renditions',
    priceClass: priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(bucket, {
        originAccessLevels: [cloudfront.AccessLevel.READ],
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy,
      compress: false,
    },
  });
}

/** What {@link allowPresignedUploads} sets up. */
export interface PresignOptions {
  /** The bucket browsers upload to. */
  readonly bucket: s3.IBucket;
  /** The key prefix of uploads (not empty: the permission covers it alone). */
  readonly prefix: string;
  /** Base URL of the renditions, for the gallery's links. */
  readonly renditionsUrl?: string;
  /** JSON field of the function's `SECRETS_MANAGER` secret that holds the upload token. */
  readonly tokenSecretField?: string;
  /** The renditions document (JSON), so the gallery can name each upload's renditions. */
  readonly renditionsDocument?: string;
}

/**
 * Lets `fn` (a pixfront HTTP function) hand out presigned POSTs: the upload pages on, and its
 * role may PutObject under the upload prefix and nowhere else (a presigned request carries
 * the signer's permissions, so this bounds what any form it signs can write), and list that
 * prefix for the gallery.
 */
export function allowPresignedUploads(fn: lambda.Function, o: PresignOptions): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'PresignUploads',
      actions: ['s3:PutObject'],
      resources: [o.bucket.arnForObjects(`${o.prefix}*`)],
    }),
  );
  // The gallery lists the uploads, nothing else of the bucket.
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ListUploads',
      actions: ['s3:ListBucket'],
      resources: [o.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${o.prefix}*`] } },
    }),
  );
  fn.addEnvironment('PIXFRONT_UPLOADS', 'Yes');
  if (o.renditionsDocument) fn.addEnvironment('PIXFRONT_RENDITIONS', o.renditionsDocument);
  fn.addEnvironment('UPLOAD_BUCKET', o.bucket.bucketName);
  fn.addEnvironment('UPLOAD_PREFIX', o.prefix);
  if (o.renditionsUrl) fn.addEnvironment('UPLOAD_RENDITIONS_URL', o.renditionsUrl);
  if (o.tokenSecretField) fn.addEnvironment('UPLOAD_TOKEN_SECRET_KEY', o.tokenSecretField);
}

/**
 * The service pages on `/` (`/?upload`, `/?gallery`, `POST /?presign`) through the image
 * distribution: its default behaviour keys on edit parameters only and allows GET/HEAD, which
 * would drop the page's query and refuse the POST. Only the exact path `/` is matched, which no
 * image key can be; nothing there is cached, and query, cookies and headers reach the function.
 */
export function addPagesBehavior(distribution: cloudfront.Distribution, origin: cloudfront.IOrigin): void {
  distribution.addBehavior('/', origin, {
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
    allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
    cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    compress: true,
  });
}
