/**
 * The CloudFront Function (viewer request) that normalises `Accept` before it enters the cache
 * key. Browsers send dozens of different Accept strings; pixfront's answer depends only on which
 * of AVIF/WebP the string selects (src/request/format.rs), so every request is reduced to
 * `image/avif`, `image/webp` or the wildcard media range (selects neither). SIH keys on the raw
 * header, which splits one rendition into many cache entries (SIH issue #32: hit rate < 50 %,
 * ~80 % once normalised). The wildcard rather than no header: API Gateway decides whether to
 * return a binary body by the request's Accept.
 *
 * The rules mirror `format::negotiate`: AVIF when AUTO_AVIF is on and `image/avif` is listed with
 * a q-value above 0; else WebP when AUTO_WEBP is on and the header contains `image/webp` (SIH's
 * substring test, q-values ignored). A format whose switch is off is never kept, so it cannot
 * split the cache either.
 */
export interface AutoFormats {
  readonly avif: boolean;
  readonly webp: boolean;
}

/** cloudfront-js-2.0 source of the handler for the enabled formats. */
export function acceptNormalizerCode(formats: AutoFormats): string {
  return `// pixfront: Accept -> image/avif | image/webp | */*, so the cache key holds one of three values.
var AUTO_AVIF = ${formats.avif};
var AUTO_WEBP = ${formats.webp};

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

function handler(event) {
  var headers = event.request.headers;
  var accept = headers.accept ? headers.accept.value : '';
  var chosen = '*/*';
  if (AUTO_AVIF && quality(accept, 'image/avif') > 0) {
    chosen = 'image/avif';
  } else if (AUTO_WEBP && accept.indexOf('image/webp') !== -1) {
    chosen = 'image/webp';
  }
  headers.accept = { value: chosen };
  return event.request;
}
`;
}
