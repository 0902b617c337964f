import { Construct } from 'constructs';
import { check } from './function';

// Named origins (docs/origins.md): the construct passes them to the function as ORIGINS,
// ORIGIN_PATHS and ORIGIN_URL_HOSTS, and grants S3 read only on the buckets they lead to.

/** The origin props of {@link PixfrontProps}. */
export interface OriginsProps {
  /**
   * Named origins (ORIGINS): name → `https://host/base/` (an HTTP(S) server; keys are appended
   * to the base) or `s3:<bucket>` (a bucket under another name). A request chooses a name like a
   * bucket, so `sourceBuckets` lists it, unless only `originPaths` leads to it. An HTTP origin's
   * name gets no S3 permission; an `s3:` alias gets read access to its bucket. `http://` needs
   * `environment.ORIGIN_ALLOW_HTTP = 'Yes'`.
   * @default - none: every name is a bucket
   */
  readonly origins?: Record<string, string>;
  /**
   * Key prefixes of the default bucket → origin name or bucket (ORIGIN_PATHS); the prefix is
   * removed from the key. @default - none
   */
  readonly originPaths?: Record<string, string>;
  /**
   * Hosts a request may name in an absolute URL key (ORIGIN_URL_HOSTS): `host`, `.suffix`,
   * `host:port`. @default - URL keys off
   */
  readonly originUrlHosts?: string[];
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** Checked origin props: the function's variables and the buckets it reads. */
export class Origins {
  private readonly origins: [string, string][];
  private readonly paths: [string, string][];
  private readonly urlHosts: string[];

  /**
   * `sourceBuckets`: the names requests may choose (empty when the construct creates the
   * bucket); `allowHttp`: the function's ORIGIN_ALLOW_HTTP is `Yes`.
   */
  constructor(scope: Construct, props: OriginsProps, sourceBuckets: string[], allowHttp: boolean) {
    const trimmed = (o: Record<string, string> | undefined): [string, string][] =>
      Object.entries(o ?? {}).map(([k, v]) => [k.trim(), String(v).trim()]);
    this.origins = trimmed(props.origins);
    this.paths = trimmed(props.originPaths).map(([prefix, origin]) => [prefix.replace(/^\/+/, ''), origin]);
    this.urlHosts = (props.originUrlHosts ?? []).map((h) => h.trim()).filter((h) => h !== '');
    for (const [name, target] of this.origins) {
      check(scope, NAME.test(name), `origins: "${name}" is not a name (letters, digits, '.', '_', '-')`);
      check(scope, !target.includes(','), `origins.${name}: a comma cannot appear in a target (percent-encode it)`);
      const http = /^https?:\/\/[^/]+/i.test(target);
      check(
        scope,
        http || /^s3:\S+$/.test(target),
        `origins.${name}: "${target}" is neither https://host/… nor s3:<bucket>`,
      );
      check(
        scope,
        !http || !/[?#]|^https?:\/\/[^/]*@/i.test(target),
        `origins.${name}: a base URL has no query, fragment or credentials`,
      );
      check(
        scope,
        !/^http:/i.test(target) || allowHttp,
        `origins.${name}: http:// needs environment ORIGIN_ALLOW_HTTP=Yes (plain HTTP can be read and altered on the way)`,
      );
      check(
        scope,
        sourceBuckets.includes(name) || this.paths.some(([, origin]) => origin === name),
        `origins.${name} is neither a source bucket nor the target of an originPaths entry: no request can reach it`,
      );
    }
    for (const [prefix, origin] of this.paths) {
      check(scope, prefix !== '' && origin !== '', `originPaths: "${prefix}" → "${origin}": expected a key prefix and an origin`);
      check(scope, !`${prefix}${origin}`.includes(',') && !prefix.includes('='), `originPaths: "${prefix}" may hold no ',' or '='`);
    }
    for (const host of this.urlHosts) {
      check(scope, /^[A-Za-z0-9.*:\-[\]]+$/.test(host), `originUrlHosts: "${host}" is not a host`);
    }
  }

  /** ORIGINS, ORIGIN_PATHS, ORIGIN_URL_HOSTS (only those in use). */
  environment(): Record<string, string> {
    const env: Record<string, string> = {};
    const join = (pairs: [string, string][]) => pairs.map(([k, v]) => `${k}=${v}`).join(',');
    if (this.origins.length > 0) env.ORIGINS = join(this.origins);
    if (this.paths.length > 0) env.ORIGIN_PATHS = join(this.paths);
    if (this.urlHosts.length > 0) env.ORIGIN_URL_HOSTS = this.urlHosts.join(',');
    return env;
  }

  /**
   * The S3 buckets `names` and the path mappings lead to, first seen first: HTTP origins have
   * none, an `s3:` alias its bucket (as `OriginSettings::store_buckets` in src/storage/origins.rs).
   */
  storeBuckets(names: string[]): string[] {
    const out: string[] = [];
    for (const name of [...names, ...this.paths.map(([, origin]) => origin)]) {
      const target = this.origins.find(([n]) => n === name)?.[1];
      if (target !== undefined && !target.startsWith('s3:')) continue;
      const bucket = target === undefined ? name : target.slice('s3:'.length);
      if (!out.includes(bucket)) out.push(bucket);
    }
    return out;
  }
}
