import * as fs from 'fs';
import * as path from 'path';
import { Annotations, Duration, Token, ValidationError } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bootstrapArchitecture } from './elf-arch';

// What every pixfront function shares, whichever front end it serves (CloudFront, the upload
// pipeline, S3 Object Lambda): the one `bootstrap` artifact, its architecture check, a role with no
// managed policy, its own log group and the face-detection settings.

export type FaceDetector = 'local' | 'rekognition';
export const FACE_DETECTORS: readonly FaceDetector[] = ['local', 'rekognition'];

export type LambdaArchitecture = 'x86_64' | 'arm64';
export const ARCHITECTURES: readonly LambdaArchitecture[] = ['x86_64', 'arm64'];

/** Env var naming the Lambda code (zip or folder), or `placeholder`; see {@link PixfrontFunctionProps.codePath}. */
export const LAMBDA_ASSET_ENV = 'PIXFRONT_LAMBDA_ASSET';
/** A `bootstrap` that only prints how to build the real one: lets synth and tests run without Rust. */
export const PLACEHOLDER_CODE = path.join(__dirname, '..', 'placeholder-lambda');

/** Where `scripts/package-lambda <arch>` writes the function. */
export function defaultCodePath(architecture: LambdaArchitecture): string {
  return path.join(__dirname, '..', '..', 'target', 'lambda', architecture, 'bootstrap.zip');
}

/** The function settings every pixfront construct takes. */
export interface PixfrontFunctionProps {
  /** @default 'local' (offline, no per-image cost) */
  readonly faceDetector?: FaceDetector;
  /**
   * `bucket` or `bucket/key-prefix` entries whose every output has faces blurred, whatever the
   * request asks (FORCE_BLUR_FACES). Each bucket must be one the function reads.
   */
  readonly forceBlurFaces?: string[];
  /** @default 'arm64' (Graviton: ~20 % cheaper per GB-second) */
  readonly architecture?: LambdaArchitecture;
  /** More memory also buys CPU (1769 MB = one full vCPU). @default 1024 (as SIH) */
  readonly memorySize?: number;
  /** @default depends on the construct (the limit of what invokes it) */
  readonly timeout?: Duration;
  /**
   * The function's code: `scripts/package-lambda`'s `bootstrap.zip` or a folder holding the
   * executable `bootstrap`. `placeholder` names a stand-in that only fails with a message.
   * @default env PIXFRONT_LAMBDA_ASSET, else target/lambda/<architecture>/bootstrap.zip
   */
  readonly codePath?: string;
  /** Retention of the function's log group. @default SIX_MONTHS (SIH: 180 days) */
  readonly logRetention?: logs.RetentionDays;
  /**
   * More variables for the function (MAX_INPUT_PIXELS, KEEP_METADATA…; docs/configuration.md).
   * May not repeat one the construct sets from its props.
   */
  readonly environment?: Record<string, string>;
}

/** Throws a synth-time error attached to `scope` unless `ok`. */
export function check(scope: Construct, ok: boolean, message: string): void {
  if (!ok) throw new ValidationError(message, scope);
}

/** Trimmed, non-empty entries. */
export function cleanList(items: string[] | undefined): string[] {
  return (items ?? []).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The parts of a pixfront function a construct builds in two steps: the role and log group
 * first (so the construct adds its own statements in its own order), then {@link build}.
 */
export class PixfrontFunctionParts {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly architecture: LambdaArchitecture;
  readonly faceDetector: FaceDetector;
  readonly forceBlurFaces: string[];

  /** Creates `Role` and `Logs` in `scope`, and checks the shared props. */
  constructor(
    private readonly scope: Construct,
    private readonly props: PixfrontFunctionProps,
    description: string,
  ) {
    this.architecture = props.architecture ?? 'arm64';
    this.faceDetector = props.faceDetector ?? 'local';
    this.forceBlurFaces = cleanList(props.forceBlurFaces);
    check(scope, ARCHITECTURES.includes(this.architecture), `architecture must be one of ${ARCHITECTURES.join(', ')}`);
    check(scope, FACE_DETECTORS.includes(this.faceDetector), `faceDetector must be one of ${FACE_DETECTORS.join(', ')}`);
    // The role gets exactly what pixfront calls: no managed policy (AWSLambdaBasicExecutionRole
    // would allow writing to every log group).
    this.role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description,
    });
    this.logGroup = new logs.LogGroup(scope, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.SIX_MONTHS });
    this.logGroup.grantWrite(this.role);
  }

  /**
   * Refuses a FORCE_BLUR_FACES entry naming a bucket the function never reads (the policy would
   * silently never apply). `readable` undefined: any bucket (a created one's name is not known).
   */
  checkForceBlurFaces(readable: string[] | undefined): void {
    if (readable === undefined) return;
    for (const entry of this.forceBlurFaces) {
      const bucket = entry.split('/')[0];
      check(
        this.scope,
        readable.includes(bucket),
        `forceBlurFaces entry "${entry}" names bucket "${bucket}", which is not a source bucket ` +
          `(${readable.join(', ')}): the policy would never apply`,
      );
    }
  }

  /** FACE_DETECTOR and FORCE_BLUR_FACES, granting Rekognition when it is the detector. */
  faceEnvironment(): Record<string, string> {
    if (this.faceDetector === 'rekognition') {
      // These two Rekognition actions support no resource-level permissions: "*" is the only form.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DetectFaces',
          actions: ['rekognition:DetectFaces', 'rekognition:DetectModerationLabels'],
          resources: ['*'],
        }),
      );
    }
    const env: Record<string, string> = { FACE_DETECTOR: this.faceDetector };
    if (this.forceBlurFaces.length > 0) env.FORCE_BLUR_FACES = this.forceBlurFaces.join(',');
    return env;
  }

  /** The function (`Function` in the scope), with the construct's variables plus the user's extra ones. */
  build(options: { description: string; defaultTimeout: Duration; environment: Record<string, string> }): lambda.Function {
    const environment = { ...options.environment };
    for (const [k, v] of Object.entries(this.props.environment ?? {})) {
      check(this.scope, !(k in environment), `environment.${k} is set by the construct; use its prop instead`);
      environment[k] = v;
    }
    return new lambda.Function(this.scope, 'Function', {
      description: options.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      architecture: this.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      code: this.code(),
      memorySize: this.props.memorySize ?? 1024,
      timeout: this.props.timeout ?? options.defaultTimeout,
      role: this.role,
      logGroup: this.logGroup,
      environment,
    });
  }

  private code(): lambda.Code {
    const architecture = this.architecture;
    const chosen = this.props.codePath ?? process.env[LAMBDA_ASSET_ENV] ?? defaultCodePath(architecture);
    if (chosen === 'placeholder') {
      Annotations.of(this.scope).addWarningV2(
        'pixfront:placeholder-code',
        'The function uses placeholder code that fails every request: build it with ' +
          '`scripts/package-lambda` and synthesize without PIXFRONT_LAMBDA_ASSET=placeholder.',
      );
      return lambda.Code.fromAsset(PLACEHOLDER_CODE);
    }
    check(
      this.scope,
      fs.existsSync(chosen),
      `pixfront's Lambda code ${chosen} does not exist. Build it with \`scripts/package-lambda ` +
        `${architecture}\`, point ${LAMBDA_ASSET_ENV} (or the codePath prop) at a bootstrap.zip or a ` +
        `folder holding \`bootstrap\`, or set ${LAMBDA_ASSET_ENV}=placeholder to synthesize without it.`,
    );
    const built = bootstrapArchitecture(chosen);
    check(
      this.scope,
      built === undefined || built === architecture,
      `${chosen} holds an ${built} bootstrap but the function is ${architecture}: build it with ` +
        `\`scripts/package-lambda ${architecture}\` or set architecture to ${built}.`,
    );
    return lambda.Code.fromAsset(chosen);
  }
}

/** Upper bound of a bucket name, for sizing variables that hold an unresolved one. */
const MAX_BUCKET_NAME = 63;

/**
 * Lambda refuses more than 4 KB of variables (names and values). Checked at synth so a long
 * renditions list fails here, not mid-deploy; an unresolved value (a created bucket's name)
 * counts as the longest bucket name.
 */
export function checkEnvironmentSize(scope: Construct, environment: Record<string, string>): void {
  let size = 0;
  for (const [k, v] of Object.entries(environment)) {
    size += k.length + (Token.isUnresolved(v) ? v.replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(MAX_BUCKET_NAME)).length : v.length);
  }
  check(scope, size <= 4096, `the function's variables take ${size} bytes; Lambda allows 4096`);
}
