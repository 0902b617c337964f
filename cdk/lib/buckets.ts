import { RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** A new bucket holding images: private, encrypted, TLS only, kept when the stack is deleted. */
export function privateBucket(scope: Construct, id: string): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** An existing bucket given by name or as a construct, or (absent) a new {@link privateBucket}. */
export function bucketOrNew(scope: Construct, id: string, given: string | s3.IBucket | undefined): { bucket: s3.IBucket; created: boolean } {
  if (given === undefined) return { bucket: privateBucket(scope, id), created: true };
  if (typeof given === 'string') return { bucket: s3.Bucket.fromBucketName(scope, id, given.trim()), created: false };
  return { bucket: given, created: false };
}
