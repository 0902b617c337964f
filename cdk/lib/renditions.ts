/**
 * The renditions an upload pipeline writes, in the shape pixfront reads from PIXFRONT_RENDITIONS
 * (docs/pipeline.md): `{"destinationBucket": …, "renditions": [{name, edits, outputFormat, key}]}`.
 * Checked here so a mistake fails `cdk synth`, not the first upload.
 */

/** Formats pixfront can encode (`jpg` and `tif` are accepted as aliases). */
export type RenditionFormat = 'jpeg' | 'jpg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' | 'tif' | 'heif';
export const RENDITION_FORMATS: readonly RenditionFormat[] = ['jpeg', 'jpg', 'png', 'webp', 'avif', 'gif', 'tiff', 'tif', 'heif'];

/** Placeholders of a key template: `photos/2024/cat.jpg` → dir `photos/2024`, stem `cat`, ext `jpg`. */
export const KEY_PLACEHOLDERS: readonly string[] = ['dir', 'stem', 'ext', 'key', 'name'];

export interface Rendition {
  /** Unique among the renditions; `{name}` in key templates. */
  readonly name: string;
  /**
   * Edits in the canonical vocabulary (docs/edits.md), as a Default request's `edits`: e.g.
   * `{resize: {width: 300, height: 300, fit: 'cover'}}`, `{blurFaces: true}`, `overlayWith`.
   * @default - none (a format change only)
   */
  readonly edits?: { readonly [edit: string]: unknown };
  /** @default - the original's format */
  readonly outputFormat?: RenditionFormat;
  /**
   * Destination key: `{dir}`, `{stem}`, `{ext}`, `{key}` (the whole source key) and `{name}`,
   * e.g. `{dir}/thumb/{stem}.webp`. Must contain `{key}` or `{stem}`, so each upload gets its own.
   */
  readonly key: string;
}

/** What is wrong with these renditions, one message per problem (empty: fine). */
export function renditionProblems(renditions: readonly Rendition[]): string[] {
  const problems: string[] = [];
  if (renditions.length === 0) problems.push('renditions: at least one is needed');
  const names = new Set<string>();
  const keys = new Map<string, string>();
  renditions.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      problems.push(`renditions[${i}]: expected {name, edits, outputFormat, key}`);
      return;
    }
    const where = `renditions[${i}]${typeof r.name === 'string' && r.name !== '' ? ` (${r.name})` : ''}`;
    if (typeof r.name !== 'string' || r.name.trim() === '' || r.name.includes('/')) {
      problems.push(`${where}: name must be a non-empty string without "/"`);
    } else if (names.has(r.name)) {
      problems.push(`${where}: name "${r.name}" is used twice`);
    } else {
      names.add(r.name);
    }
    if (r.edits !== undefined && (r.edits === null || typeof r.edits !== 'object' || Array.isArray(r.edits))) {
      problems.push(`${where}: edits must be an object of edits`);
    }
    if (r.outputFormat !== undefined && !RENDITION_FORMATS.includes(String(r.outputFormat).toLowerCase() as RenditionFormat)) {
      problems.push(`${where}: outputFormat "${r.outputFormat}" is not one of ${RENDITION_FORMATS.join(', ')}`);
    }
    if (typeof r.key !== 'string' || r.key.trim() === '') {
      problems.push(`${where}: key (the destination key template) is required`);
      return;
    }
    if (r.key.startsWith('/')) problems.push(`${where}: key "${r.key}" starts with "/" (S3 keys have no leading slash)`);
    const unknown = [...r.key.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((p) => !KEY_PLACEHOLDERS.includes(p));
    if (unknown.length > 0) {
      problems.push(`${where}: key "${r.key}" has unknown placeholder(s) ${unknown.map((p) => `{${p}}`).join(', ')} (known: ${KEY_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
    }
    if (!r.key.includes('{key}') && !r.key.includes('{stem}')) {
      problems.push(`${where}: key "${r.key}" has neither {key} nor {stem}: every upload would write the same object`);
    }
    // Same template and no {name}: two renditions would overwrite each other.
    const resolvedName = r.key.split('{name}').join(r.name);
    const other = keys.get(resolvedName);
    if (other !== undefined) problems.push(`${where}: key "${r.key}" is also ${other}'s: they would overwrite each other`);
    else keys.set(resolvedName, r.name);
  });
  return problems;
}

/**
 * The literal start of a key template, before its first placeholder: every key it produces
 * begins with it (`thumbs/{key}` → `thumbs/`; `{dir}/thumb/{stem}.webp` → ``).
 */
export function keyTemplatePrefix(template: string): string {
  const brace = template.indexOf('{');
  return brace < 0 ? template : template.slice(0, brace);
}

/**
 * The shortest set of prefixes covering every rendition key: each rendition's literal prefix,
 * without those another one already covers.
 */
export function destinationPrefixes(renditions: readonly Rendition[]): string[] {
  const all = [...new Set(renditions.map((r) => keyTemplatePrefix(r.key)))].sort();
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q)));
}

/** `bucket`/`key` of every `overlayWith` (SIH watermark) in these edits: pixfront reads each. */
export function overlayObjects(editLists: readonly ({ readonly [edit: string]: unknown } | undefined)[]): { bucket: string; key: string }[] {
  const seen = new Map<string, { bucket: string; key: string }>();
  for (const edits of editLists) {
    const overlay = edits?.overlayWith as { bucket?: unknown; key?: unknown } | undefined;
    if (overlay && typeof overlay.bucket === 'string' && typeof overlay.key === 'string') {
      seen.set(`${overlay.bucket}/${overlay.key}`, { bucket: overlay.bucket, key: overlay.key });
    }
  }
  return [...seen.values()];
}

/**
 * The PIXFRONT_RENDITIONS document (keys in the documented order, absent fields left out).
 * `sourcePrefix` is the notifications' prefix: pixfront renders only keys under it, and with it
 * accepts a destination equal to the source when no rendition key can start with it.
 */
export function renditionsDocument(destinationBucket: string, renditions: readonly Rendition[], sourcePrefix = ''): object {
  return {
    destinationBucket,
    ...(sourcePrefix !== '' ? { sourcePrefix } : {}),
    renditions: renditions.map((r) => ({
      name: r.name,
      ...(r.edits !== undefined ? { edits: r.edits } : {}),
      ...(r.outputFormat !== undefined ? { outputFormat: r.outputFormat } : {}),
      key: r.key,
    })),
  };
}
