import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';
import { PixfrontMonitoring } from './monitoring';
import { PixfrontObjectLambda, PixfrontObjectLambdaProps } from './object-lambda';
import { Pixfront, PixfrontProps } from './pixfront';
import { addPagesBehavior } from './renditions-delivery';
import { PixfrontUploadPipeline, PixfrontUploadPipelineProps } from './upload-pipeline';

export interface PixfrontStackProps extends StackProps {
  readonly pixfront?: PixfrontProps;
  /** us-east-1 ACM certificate for `pixfront.domainNames`, by ARN. */
  readonly certificateArn?: string;
  /** Adds renditions written on upload. @default - none */
  readonly uploadPipeline?: PixfrontUploadPipelineProps;
  /** Adds an S3 Object Lambda access point (existing Object Lambda users only). @default - none */
  readonly objectLambda?: PixfrontObjectLambdaProps;
  /** A CloudWatch dashboard and alarms on 5xx rate and throttles. @default true */
  readonly monitoring?: boolean;
}

/**
 * The example stack: one {@link Pixfront} and its outputs (named as SIH's where SIH has one),
 * optionally with an upload pipeline and an Object Lambda access point.
 */
export class PixfrontStack extends Stack {
  readonly pixfront: Pixfront;
  readonly uploadPipeline?: PixfrontUploadPipeline;
  readonly objectLambda?: PixfrontObjectLambda;
  readonly monitoring?: PixfrontMonitoring;

  constructor(scope: Construct, id: string, props: PixfrontStackProps = {}) {
    super(scope, id, props);
    const certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)
      : props.pixfront?.certificate;
    this.pixfront = new Pixfront(this, 'Pixfront', { ...props.pixfront, certificate });
    const url = `https://${this.pixfront.distribution.distributionDomainName}`;
    new CfnOutput(this, 'DistributionUrl', { value: url, description: 'Image URLs start here' });
    new CfnOutput(this, 'ApiEndpoint', { value: url, description: "The same URL under SIH's output name" });
    new CfnOutput(this, 'SourceBuckets', { value: this.pixfront.sourceBucketNames.join(',') });
    new CfnOutput(this, 'LogGroupName', { value: this.pixfront.logGroup.logGroupName });

    if (props.uploadPipeline) {
      const pipeline = new PixfrontUploadPipeline(this, 'UploadPipeline', props.uploadPipeline);
      this.uploadPipeline = pipeline;
      new CfnOutput(this, 'UploadBucket', { value: pipeline.sourceBucket.bucketName, description: 'Uploads here get renditions' });
      new CfnOutput(this, 'RenditionsBucket', { value: pipeline.destinationBucket.bucketName });
      if (props.uploadPipeline.uploadPages) {
        pipeline.allowPresignedUploads(this.pixfront.function, props.uploadPipeline.uploadPages.tokenSecretField);
        addPagesBehavior(this.pixfront.distribution, this.pixfront.origin);
      }
      new CfnOutput(this, 'UploadDeadLetterQueueUrl', {
        value: pipeline.deadLetterQueue.queueUrl,
        description: 'Uploads that could not be rendered',
      });
    }
    if (props.objectLambda) {
      const objectLambda = new PixfrontObjectLambda(this, 'ObjectLambda', props.objectLambda);
      this.objectLambda = objectLambda;
      new CfnOutput(this, 'ObjectLambdaAccessPointArn', {
        value: objectLambda.objectLambdaAccessPointArn,
        description: 'GetObject with this as the bucket',
      });
      new CfnOutput(this, 'ObjectLambdaAccessPointAlias', { value: objectLambda.objectLambdaAccessPoint.attrAliasValue });
    }
    if (props.monitoring ?? true) {
      this.monitoring = new PixfrontMonitoring(this, 'Monitoring', {
        function: this.pixfront.function,
        uploadFunction: this.uploadPipeline?.function,
        extraAlarms: this.uploadPipeline ? [this.uploadPipeline.deadLetterAlarm] : [],
      });
      new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    }
  }
}
