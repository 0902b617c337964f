import { createHash } from 'crypto';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketOrNew } from './buckets';

/** Rendition storage (`RESULT_BUCKET`, docs/configuration.md#rendition-storage). */
export interface ResultBucketProps {
  /** An existing bucket (name or construct). @default - a new private bucket */
  readonly bucket?: string | s3.IBucket;
  /**
   * Days after which a stored rendition is deleted (a new bucket's lifecycle rule; renditions of
   * a replaced original are only renewed then). 0: never. @default 30
   */
  readonly expirationDays?: number;
  /**
   * CloudFront reads the bucket first and calls the function only when it answers 403/404
   * (an origin group). The function then names renditions by URL path (`RESULT_KEYS=path`) and
   * CloudFront forwards no query string, so the query-parameter dialect is not available; not
   * with signatures (S3 cannot check them). false: only the function reads the bucket, keys are
   * the canonical request's hash and every dialect works. @default true
   */
  readonly servedByCloudFront?: boolean;
}

/**
 * The result bucket, the function's settings and grants for it, and (when it fronts the
 * function) the CloudFront origin group.
 */
export class ResultBucket extends Construct {
  readonly bucket: s3.IBucket;
  /**
   * Key prefix of the renditions: with `servedByCloudFront`, a digest of the function's settings,
   * so a settings change (FORCE_BLUR_FACES, say) starts from an empty prefix instead of
   * CloudFront serving renditions made under the old settings.
   */
  readonly prefix: string;
  readonly servedByCloudFront: boolean;

  constructor(scope: Construct, id: string, props: ResultBucketProps, functionEnvironment: Record<string, string>) {
    super(scope, id);
    this.servedByCloudFront = props.servedByCloudFront ?? true;
    const days = props.expirationDays ?? 30;
    if (!Number.isInteger(days) || days < 0) throw new Error(`resultBucket.expirationDays must be a whole number >= 0, got ${days}`);
    const { bucket, created } = bucketOrNew(this, 'Bucket', props.bucket);
    if (!created && props.expirationDays !== undefined && props.expirationDays > 0) {
      throw new Error('resultBucket.expirationDays needs a new bucket (an existing one keeps its own lifecycle rules)');
    }
    if (created && days > 0) {
      (bucket as s3.Bucket).addLifecycleRule({ id: 'ExpireRenditions', expiration: Duration.days(days) });
    }
    this.bucket = bucket;
    const settings = JSON.stringify(Stack.of(this).resolve(functionEnvironment));
    this.prefix = this.servedByCloudFront
      ? `renditions-${createHash('sha256').update(settings).digest('hex').slice(0, 12)}/`
      : 'renditions/';
  }

  /** RESULT_* for the function. */
  environment(): Record<string, string> {
    return {
      RESULT_BUCKET: this.bucket.bucketName,
      RESULT_PREFIX: this.prefix,
      RESULT_KEYS: this.servedByCloudFront ? 'path' : 'hash',
    };
  }

  /** Read and write the renditions; ListBucket makes a missing one a 404 (a miss), not a 403. */
  grant(grantee: iam.IGrantable) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteRenditions',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${this.prefix}*`)],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ListRenditions', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }

  /**
   * The distribution's origin: the bucket (through Origin Access Control, under the prefix), the
   * function on 403/404 (S3 answers 403 to CloudFront for a missing key).
   */
  origin(fn: cloudfront.IOrigin): cloudfront.IOrigin {
    if (!this.servedByCloudFront) return fn;
    const primary = origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
      originPath: `/${this.prefix.replace(/\/$/, '')}`,
    });
    return new origins.OriginGroup({ primaryOrigin: primary, fallbackOrigin: fn, fallbackStatusCodes: [403, 404] });
  }
}
