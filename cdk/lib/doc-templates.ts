import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from './context';
import { LAMBDA_ASSET_ENV } from './pixfront';

/**
 * The templates committed in docs/cdk/ (`npm run templates` writes them; a test checks they are
 * current): one per origin type and one per event front end, each with the context shown,
 * synthesized with the placeholder Lambda code.
 */
/** cdk/renditions.example.json: the renditions document the docs show. */
export const RENDITIONS_EXAMPLE = path.join(__dirname, '..', 'renditions.example.json');

export const DOC_TEMPLATES: Record<string, Record<string, string>> = {
  'pixfront-function-url.template.json': {
    originType: 'function-url',
    sourceBuckets: 'my-originals,my-uploads',
    autoWebp: 'Yes',
    autoAvif: 'Yes',
  },
  'pixfront-apigateway.template.json': {
    originType: 'apigateway',
    sourceBuckets: 'my-originals,my-uploads',
    autoWebp: 'Yes',
    enableSignature: 'Yes',
    secretsManagerSecret: 'pixfront/signing',
    secretsManagerKey: 'hmac',
  },
  // The renditions bucket is also a source: CloudFront serves the renditions as they are.
  'pixfront-upload-pipeline.template.json': {
    originType: 'function-url',
    sourceBuckets: 'my-originals,my-renditions',
    uploadPipeline: 'Yes',
    uploadSourceBucket: 'my-uploads',
    uploadSuffixes: '.jpg,.jpeg,.png',
    renditions: fs.readFileSync(RENDITIONS_EXAMPLE, 'utf8'),
  },
  'pixfront-object-lambda.template.json': {
    originType: 'function-url',
    sourceBuckets: 'my-originals',
    objectLambda: 'Yes',
    objectLambdaBucket: 'my-private-photos',
    objectLambdaEdits: '{"blurFaces": true}',
  },
};

export const DOC_TEMPLATE_DIR = path.join(__dirname, '..', '..', 'docs', 'cdk');

/** The CloudFormation template `cdk synth` would write for these context values. */
export function synthTemplate(context: Record<string, string>): unknown {
  const previous = process.env[LAMBDA_ASSET_ENV];
  process.env[LAMBDA_ASSET_ENV] = 'placeholder';
  try {
    const app = new App({ context });
    const stack = buildApp(app);
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    if (previous === undefined) delete process.env[LAMBDA_ASSET_ENV];
    else process.env[LAMBDA_ASSET_ENV] = previous;
  }
}

/** Serialisation of a committed template (stable key order from synthesis, trailing newline). */
export function renderTemplate(template: unknown): string {
  return `${JSON.stringify(template, null, 2)}\n`;
}
