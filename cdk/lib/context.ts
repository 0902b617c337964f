import * as fs from 'fs';
import { App } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  ARCHITECTURES,
  FACE_DETECTORS,
  FaceDetector,
  LambdaArchitecture,
  ORIGIN_TYPES,
  OriginType,
  PixfrontProps,
} from './pixfront';
import { PixfrontObjectLambdaProps } from './object-lambda';
import { Rendition } from './renditions';
import { PixfrontStack } from './stack';
import { PixfrontUploadPipelineProps } from './upload-pipeline';

/**
 * `cdk deploy -c key=value` keys, and the SIH CloudFormation parameter each replaces. Values are
 * strings on the command line; cdk.json may also hold booleans, numbers and arrays.
 */
export const CONTEXT_KEYS = {
  stackName: '(stack name; default Pixfront)',
  originType: '(pixfront) apigateway | function-url',
  sourceBuckets: 'SourceBucketsParameter',
  corsEnabled: 'CorsEnabledParameter',
  corsOrigin: 'CorsOriginParameter',
  autoWebp: 'AutoWebPParameter',
  autoAvif: '(pixfront)',
  clientHints: '(pixfront) Yes: CLIENT_HINTS, the snapped hints in the cache key',
  enableSignature: 'EnableSignatureParameter',
  secretsManagerSecret: 'SecretsManagerSecretParameter',
  secretsManagerKey: 'SecretsManagerKeyParameter',
  enableDefaultFallbackImage: 'EnableDefaultFallbackImageParameter',
  fallbackImageS3Bucket: 'FallbackImageS3BucketParameter',
  fallbackImageS3Key: 'FallbackImageS3KeyParameter',
  logRetentionDays: 'LogRetentionPeriodParameter',
  priceClass: 'CloudFrontPriceClassParameter',
  enableLogging: '(pixfront; SIH always logs)',
  faceDetector: '(pixfront) local | rekognition',
  forceBlurFaces: '(pixfront)',
  origins: '(pixfront) named origins: name=https://host/base/ or name=s3:bucket, comma-separated (cdk.json: an object)',
  originPaths: '(pixfront) key-prefix=origin, comma-separated (cdk.json: an object)',
  originUrlHosts: '(pixfront) hosts requests may name in URL keys, comma-separated',
  architecture: '(pixfront) arm64 | x86_64',
  memorySize: '(pixfront; SIH: 1024)',
  domainNames: '(pixfront) alternate domain names, comma-separated',
  certificateArn: '(pixfront) us-east-1 ACM certificate for domainNames',
  uploadPipeline: '(pixfront) Yes: renditions written on upload',
  renditions: '(pixfront) the PIXFRONT_RENDITIONS document, inline JSON or a file path',
  uploadSourceBucket: '(pixfront) bucket whose uploads are rendered; default: a new one',
  uploadPrefix: '(pixfront) only keys starting with this',
  uploadSuffixes: '(pixfront) only keys ending with one of these, comma-separated',
  uploadBatchSize: '(pixfront) messages per invocation; default 10',
  uploadMaxReceiveCount: '(pixfront) deliveries before the dead-letter queue; default 5',
  renditionsCdn: '(pixfront) Yes: renditions delivered over HTTPS by their own CloudFront distribution',
  uploadNotAnImage: '(pixfront) keep | delete | quarantine: what becomes of an upload that is not an image',
  uploadPages: '(pixfront) Yes: upload/gallery pages and presigned uploads on the image function (needs uploadPrefix)',
  uploadTokenSecretField: '(pixfront) field of the SECRETS_MANAGER secret holding the upload token',
  objectLambda: '(pixfront) Yes: an S3 Object Lambda access point (existing Object Lambda users only)',
  objectLambdaBucket: '(pixfront) the bucket behind it',
  objectLambdaEdits: '(pixfront) edits applied to every GET, inline JSON or a file path',
  objectLambdaAccessPointName: '(pixfront) name of the Object Lambda access point',
  monitoring: '(pixfront) No: no CloudWatch dashboard and alarms (default Yes)',
  resultBucket: '(pixfront) Yes: renditions stored in S3 (RESULT_BUCKET) and read by CloudFront first',
  resultBucketName: '(pixfront) an existing bucket for them; default: a new one',
  resultExpirationDays: '(pixfront) days a stored rendition lives (new bucket; default 30, 0: forever)',
  resultServedByCloudFront: '(pixfront) No: only the function reads the bucket (every dialect, signatures)',
} as const;
export type ContextKey = keyof typeof CONTEXT_KEYS;

const PRICE_CLASSES: Record<string, cloudfront.PriceClass> = {
  PriceClass_All: cloudfront.PriceClass.PRICE_CLASS_ALL,
  PriceClass_200: cloudfront.PriceClass.PRICE_CLASS_200,
  PriceClass_100: cloudfront.PriceClass.PRICE_CLASS_100,
};

/** Readers of context values, each throwing on a value it cannot read. */
function readers(get: (key: ContextKey) => unknown) {
  const str = (key: ContextKey): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new Error(`context ${key}: expected a string, got ${JSON.stringify(v)}`);
    }
    const s = String(v).trim();
    return s === '' ? undefined : s;
  };
  const bool = (key: ContextKey): boolean | undefined => {
    const s = str(key);
    if (s === undefined) return undefined;
    if (/^(yes|true)$/i.test(s)) return true;
    if (/^(no|false)$/i.test(s)) return false;
    throw new Error(`context ${key}: expected Yes or No, got "${s}"`);
  };
  const list = (key: ContextKey): string[] | undefined => {
    const v = get(key);
    const items = Array.isArray(v) ? v.map(String) : str(key)?.split(',');
    const out = (items ?? []).map((s) => s.trim()).filter((s) => s !== '');
    return out.length > 0 ? out : undefined;
  };
  const oneOf = <T extends string>(key: ContextKey, allowed: readonly T[]): T | undefined => {
    const s = str(key);
    if (s !== undefined && !allowed.includes(s as T)) {
      throw new Error(`context ${key}: expected one of ${allowed.join(', ')}, got "${s}"`);
    }
    return s as T | undefined;
  };
  const int = (key: ContextKey): number | undefined => {
    const s = str(key);
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw new Error(`context ${key}: expected a whole number, got "${s}"`);
    return Number(s);
  };
  /** Inline JSON (starting with `{`), the path of a JSON file, or (cdk.json) the object itself. */
  const json = (key: ContextKey): unknown => {
    const v = get(key);
    if (v !== null && typeof v === 'object') return v;
    const s = str(key);
    if (s === undefined) return undefined;
    let text = s;
    if (!s.startsWith('{')) {
      try {
        text = fs.readFileSync(s, 'utf8');
      } catch (e) {
        throw new Error(`context ${key}: "${s}" is neither inline JSON nor a readable file (${(e as Error).message})`);
      }
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`context ${key}: not valid JSON (${(e as Error).message})`);
    }
  };
  /** `a=b,c=d` on the command line, or (cdk.json) an object. */
  const pairs = (key: ContextKey): Record<string, string> | undefined => {
    const v = get(key);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    }
    const items = list(key);
    if (items === undefined) return undefined;
    return Object.fromEntries(
      items.map((item) => {
        const at = item.indexOf('=');
        if (at <= 0) throw new Error(`context ${key}: expected name=value entries, got "${item}"`);
        return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
      }),
    );
  };
  return { str, bool, list, oneOf, int, json, pairs };
}

/**
 * Turns context values into construct props (certificateArn aside: the stack imports it); throws
 * on a value it cannot read.
 */
export function propsFromContext(get: (key: ContextKey) => unknown): PixfrontProps {
  const { str, bool, list, oneOf, int, pairs } = readers(get);
  let signature: PixfrontProps['signature'];
  if (bool('enableSignature')) {
    const secretName = str('secretsManagerSecret');
    const secretKey = str('secretsManagerKey');
    if (!secretName || !secretKey) {
      throw new Error('enableSignature=Yes needs secretsManagerSecret and secretsManagerKey');
    }
    signature = { secretName, secretKey };
  }
  let fallbackImage: PixfrontProps['fallbackImage'];
  if (bool('enableDefaultFallbackImage')) {
    const bucket = str('fallbackImageS3Bucket');
    const key = str('fallbackImageS3Key');
    if (!bucket || !key) {
      throw new Error('enableDefaultFallbackImage=Yes needs fallbackImageS3Bucket and fallbackImageS3Key');
    }
    fallbackImage = { bucket, key };
  }
  const days = int('logRetentionDays');
  if (days !== undefined && !Object.values(logs.RetentionDays).includes(days)) {
    throw new Error(`context logRetentionDays: ${days} is not a CloudWatch retention (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, …)`);
  }
  const priceClass = str('priceClass');
  if (priceClass !== undefined && !(priceClass in PRICE_CLASSES)) {
    throw new Error(`context priceClass: expected one of ${Object.keys(PRICE_CLASSES).join(', ')}, got "${priceClass}"`);
  }

  return {
    domainNames: list('domainNames'),
    originType: oneOf<OriginType>('originType', ORIGIN_TYPES),
    sourceBuckets: list('sourceBuckets'),
    corsEnabled: bool('corsEnabled'),
    corsOrigin: str('corsOrigin'),
    autoWebp: bool('autoWebp'),
    autoAvif: bool('autoAvif'),
    clientHints: bool('clientHints'),
    signature,
    fallbackImage,
    logRetention: days as logs.RetentionDays | undefined,
    priceClass: priceClass === undefined ? undefined : PRICE_CLASSES[priceClass],
    enableLogging: bool('enableLogging'),
    faceDetector: oneOf<FaceDetector>('faceDetector', FACE_DETECTORS),
    forceBlurFaces: list('forceBlurFaces'),
    origins: pairs('origins'),
    originPaths: pairs('originPaths'),
    originUrlHosts: list('originUrlHosts'),
    architecture: oneOf<LambdaArchitecture>('architecture', ARCHITECTURES),
    memorySize: int('memorySize'),
    resultBucket: bool('resultBucket')
      ? {
          bucket: str('resultBucketName'),
          expirationDays: int('resultExpirationDays'),
          servedByCloudFront: bool('resultServedByCloudFront'),
        }
      : undefined,
  };
}

/** The event front ends the context asks for, sharing the image handler's function settings. */
export function eventPropsFromContext(
  get: (key: ContextKey) => unknown,
  shared: Pick<PixfrontProps, 'architecture' | 'faceDetector' | 'logRetention'> = {},
): { uploadPipeline?: PixfrontUploadPipelineProps; objectLambda?: PixfrontObjectLambdaProps } {
  const { str, bool, list, int, json, oneOf } = readers(get);
  const out: { uploadPipeline?: PixfrontUploadPipelineProps; objectLambda?: PixfrontObjectLambdaProps } = {};
  if (bool('uploadPipeline')) {
    const doc = json('renditions');
    if (doc === undefined) throw new Error('uploadPipeline=Yes needs renditions (inline JSON or a file path)');
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new Error('context renditions: expected {"destinationBucket": …, "renditions": […]}');
    }
    const { destinationBucket, renditions, ...unknown } = doc as Record<string, unknown>;
    if (Object.keys(unknown).length > 0) {
      throw new Error(`context renditions: unknown field(s) ${Object.keys(unknown).join(', ')} (known: destinationBucket, renditions)`);
    }
    if (!Array.isArray(renditions)) throw new Error('context renditions: "renditions" must be a list');
    if (destinationBucket !== undefined && typeof destinationBucket !== 'string') {
      throw new Error('context renditions: "destinationBucket" must be a bucket name');
    }
    out.uploadPipeline = {
      ...shared,
      renditions: renditions as Rendition[],
      // Empty or absent: the construct creates the destination bucket.
      destinationBucket: destinationBucket?.trim() || undefined,
      sourceBucket: str('uploadSourceBucket'),
      prefix: str('uploadPrefix'),
      suffixes: list('uploadSuffixes'),
      batchSize: int('uploadBatchSize'),
      maxReceiveCount: int('uploadMaxReceiveCount'),
      deliverRenditions: bool('renditionsCdn') || undefined,
      notAnImage: oneOf('uploadNotAnImage', ['keep', 'delete', 'quarantine'] as const),
      uploadPages: bool('uploadPages') ? { tokenSecretField: str('uploadTokenSecretField') } : undefined,
    };
  }
  if (bool('objectLambda')) {
    const bucket = str('objectLambdaBucket');
    if (!bucket) throw new Error('objectLambda=Yes needs objectLambdaBucket');
    const edits = json('objectLambdaEdits');
    if (edits !== undefined && (edits === null || typeof edits !== 'object' || Array.isArray(edits))) {
      throw new Error('context objectLambdaEdits: expected an object of edits, e.g. {"blurFaces": true}');
    }
    out.objectLambda = {
      ...shared,
      bucket,
      edits: edits as PixfrontObjectLambdaProps['edits'],
      objectLambdaAccessPointName: str('objectLambdaAccessPointName'),
    };
  }
  return out;
}

/** The app `cdk` runs (bin/pixfront.ts): one stack configured from context. */
export function buildApp(app: App): PixfrontStack {
  const get = (key: ContextKey) => app.node.tryGetContext(key);
  const props = propsFromContext(get);
  const events = eventPropsFromContext(get, {
    architecture: props.architecture,
    faceDetector: props.faceDetector,
    logRetention: props.logRetention,
  });
  const stackName = (get('stackName') as string | undefined) ?? 'Pixfront';
  const certificateArn = get('certificateArn');
  const extras = [events.uploadPipeline && 'upload pipeline', events.objectLambda && 'S3 Object Lambda'].filter(Boolean);
  return new PixfrontStack(app, stackName, {
    description:
      `pixfront image handler behind CloudFront (${props.originType ?? 'function-url'} origin)` +
      (extras.length > 0 ? `, with ${extras.join(' and ')}` : ''),
    analyticsReporting: false,
    pixfront: props,
    ...events,
    monitoring: readers(get).bool('monitoring'),
    certificateArn: typeof certificateArn === 'string' && certificateArn.trim() !== '' ? certificateArn.trim() : undefined,
  });
}
