import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';
import { Pixfront, PixfrontProps } from './pixfront';

export interface PixfrontStackProps extends StackProps {
  readonly pixfront?: PixfrontProps;
  /** us-east-1 ACM certificate for `pixfront.domainNames`, by ARN. */
  readonly certificateArn?: string;
}

/** The example stack: one {@link Pixfront} and its outputs (named as SIH's where SIH has one). */
export class PixfrontStack extends Stack {
  readonly pixfront: Pixfront;

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
  }
}
