/**
 * The CloudFront Function (viewer request) that reduces a request to what changes pixfront's
 * answer before the cache key is made. CloudFront allows one viewer-request function per
 * behaviour, so its three jobs are one function, each part present only when needed:
 *
 * - **Accept** (AUTO_WEBP/AUTO_AVIF). Browsers send dozens of different Accept strings;
 *   pixfront's answer depends only on which of AVIF/WebP the string selects
 *   (src/request/format.rs), so every request is reduced to `image/avif`, `image/webp` or the
 *   wildcard media range (selects neither). SIH keys on the raw header, which splits one
 *   rendition into many cache entries (SIH issue #32: hit rate < 50 %, ~80 % once normalised).
 *   The wildcard rather than no header: API Gateway decides whether to return a binary body by
 *   the request's Accept. The rules mirror `format::negotiate`: AVIF when AUTO_AVIF is on and
 *   `image/avif` is listed with a q-value above 0; else WebP when AUTO_WEBP is on and the header
 *   contains `image/webp` (SIH's substring test, q-values ignored). A format whose switch is off
 *   is never kept, so it cannot split the cache either.
 * - **Client hints** (CLIENT_HINTS). `Sec-CH-DPR` becomes 1, 2 or 3 (nearest), `Sec-CH-Width`
 *   and `Sec-CH-Viewport-Width` the smallest of {@link HINT_WIDTHS} at least as large (else the
 *   largest), exactly as pixfront snaps them (src/request/hints.rs); a malformed hint is
 *   removed. The cache key then holds a few values per hint instead of one per device.
 * - **Query parameters** (signatures off). Only {@link keepQuery}'s names are kept, so
 *   `?utm_source=…` and cache busters share one cache entry. Doing this here rather than with a
 *   cache-policy allowlist lifts CloudFront's 10-name quota on that list.
 */
export interface ViewerRequestOptions {
  readonly avif: boolean;
  readonly webp: boolean;
  readonly clientHints: boolean;
  /** Query parameter names to keep; `undefined` keeps all (signed URLs: every one is signed). */
  readonly keepQuery?: readonly string[];
}

/** The breakpoints hinted widths are rounded up to (src/request/hints.rs `WIDTHS`). */
export const HINT_WIDTHS: readonly number[] = [320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560, 3840];

/** The client hint headers, as they go into the cache key. */
export const CLIENT_HINT_HEADERS: readonly string[] = ['Sec-CH-DPR', 'Sec-CH-Width', 'Sec-CH-Viewport-Width'];

/** True when the options give the function something to do. */
export function viewerRequestNeeded(o: ViewerRequestOptions): boolean {
  return o.avif || o.webp || o.clientHints || o.keepQuery !== undefined;
}

/** cloudfront-js-2.0 source of the handler for these options. */
export function viewerRequestCode(o: ViewerRequestOptions): string {
  return `// pixfront: only what changes the answer reaches the cache key.
var AUTO_AVIF = ${o.avif};
var AUTO_WEBP = ${o.webp};
var CLIENT_HINTS = ${o.clientHints};
var HINT_WIDTHS = ${JSON.stringify(HINT_WIDTHS)};
var KEEP_QUERY = ${o.keepQuery === undefined ? 'null' : JSON.stringify(o.keepQuery)};

// q-value the header gives exactly \`mime\` (case-insensitive); -1 when not listed.
function quality(accept, mime) {
  var items = accept.split(',');
  for (var i = 0; i < items.length; i++) {
    var parts = items[i].split(';');
    if (parts[0].trim().toLowerCase() !== mime) continue;
    for (var j = 1; j < parts.length; j++) {
      var eq = parts[j].indexOf('=');
      if (eq !== -1 && parts[j].slice(0, eq).trim().toLowerCase() === 'q') {
        var v = parts[j].slice(eq + 1).trim();
        var q = Number(v);
        return v === '' || isNaN(q) ? 0 : q;
      }
    }
    return 1;
  }
  return -1;
}

// A hint's number above 0, else NaN.
function hint(headers, name) {
  if (!headers[name]) return NaN;
  var text = headers[name].value.trim();
  var n = text === '' ? NaN : Number(text);
  return isFinite(n) && n > 0 ? n : NaN;
}

function snapHints(headers) {
  var dpr = hint(headers, 'sec-ch-dpr');
  if (isNaN(dpr)) delete headers['sec-ch-dpr'];
  else headers['sec-ch-dpr'] = { value: String(Math.min(3, Math.max(1, Math.round(dpr)))) };
  var names = ['sec-ch-width', 'sec-ch-viewport-width'];
  for (var i = 0; i < names.length; i++) {
    var w = hint(headers, names[i]);
    if (isNaN(w)) {
      delete headers[names[i]];
      continue;
    }
    var snapped = HINT_WIDTHS[HINT_WIDTHS.length - 1];
    for (var j = 0; j < HINT_WIDTHS.length; j++) {
      if (HINT_WIDTHS[j] >= w) {
        snapped = HINT_WIDTHS[j];
        break;
      }
    }
    headers[names[i]] = { value: String(snapped) };
  }
}

function handler(event) {
  var request = event.request;
  var headers = request.headers;
  if (AUTO_AVIF || AUTO_WEBP) {
    var accept = headers.accept ? headers.accept.value : '';
    var chosen = '*/*';
    if (AUTO_AVIF && quality(accept, 'image/avif') > 0) {
      chosen = 'image/avif';
    } else if (AUTO_WEBP && accept.indexOf('image/webp') !== -1) {
      chosen = 'image/webp';
    }
    headers.accept = { value: chosen };
  }
  if (CLIENT_HINTS) snapHints(headers);
  if (KEEP_QUERY !== null && request.querystring) {
    for (var name in request.querystring) {
      if (KEEP_QUERY.indexOf(name) === -1) delete request.querystring[name];
    }
  }
  return request;
}
`;
}
