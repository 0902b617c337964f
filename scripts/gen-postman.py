#!/usr/bin/env python3
"""Writes docs/postman/pixfront.postman_collection.json (+ environment).

The collection is generated so every request gets the same checks (status, Content-Type, image
dimensions read from the header bytes) without copy-pasted JavaScript. Edit the CASES table and
re-run: `scripts/gen-postman.py`. `scripts/test` runs the result with newman.
"""
import base64, json, os

BUCKET = "pixfront-samples"

# Reads width/height from PNG, JPEG, WebP, GIF and AVIF header bytes.
DIMS_JS = r"""
function dims(b) {
  if (b[0] === 0x89 && b[1] === 0x50) return [b.readUInt32BE(16), b.readUInt32BE(20)];
  if (b[0] === 0xFF && b[1] === 0xD8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xFF) { i++; continue; }
      const m = b[i + 1];
      if (m >= 0xC0 && m <= 0xCF && m !== 0xC4 && m !== 0xC8 && m !== 0xCC) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
      i += 2 + b.readUInt16BE(i + 2);
    }
  }
  if (b.toString('ascii', 0, 4) === 'RIFF') {
    const c = b.toString('ascii', 12, 16);
    if (c === 'VP8 ') return [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
    if (c === 'VP8L') { const v = b.readUInt32LE(21); return [(v & 0x3fff) + 1, ((v >>> 14) & 0x3fff) + 1]; }
    if (c === 'VP8X') return [1 + b.readUIntLE(24, 3), 1 + b.readUIntLE(27, 3)];
  }
  if (b.toString('ascii', 0, 3) === 'GIF') return [b.readUInt16LE(6), b.readUInt16LE(8)];
  const k = b.indexOf('ispe');
  if (k > 0) return [b.readUInt32BE(k + 8), b.readUInt32BE(k + 12)];
  return null;
}
"""


def b64(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def case(name, path, status, ctype, dims=None, method="GET", headers=None, code=None, extra=None, desc="",
         sign=False):
    return dict(name=name, path=path, status=status, ctype=ctype, dims=dims, method=method,
                headers=headers or {}, code=code, extra=extra or [], desc=desc, sign=sign)


ORIGINAL_ETAG_SAVE = "pm.collectionVariables.set('etag', pm.response.headers.get('ETag'));"

FOLDERS = {
    "Service endpoints": [
        case("Health", "/?health", 200, "application/json",
             extra=["pm.expect(pm.response.json().status).to.eql('ok');"],
             desc="Storage reachable. The path / can never be an image key, so service endpoints live there."),
        case("Demo page", "/", 200, "text/html; charset=utf-8",
             extra=["pm.expect(pm.response.text()).to.include('pixfront demo');"]),
    ],
    "Originals and HTTP": [
        case("JPEG original", "/rocket.jpg", 200, "image/jpeg", dims=[640, 427],
             extra=["pm.expect(pm.response.headers.get('ETag')).to.match(/^\"[0-9a-f]{32}\"$/);",
                    "pm.expect(pm.response.headers.get('Cache-Control')).to.eql('max-age=31536000,public');",
                    "pm.expect(pm.response.headers.get('Server-Timing')).to.include('fetch;dur=');",
                    ORIGINAL_ETAG_SAVE]),
        case("If-None-Match: 304", "/rocket.jpg", 304, None, headers={"If-None-Match": "{{etag}}"},
             desc="Sends the ETag of the previous answer back."),
        case("PNG original in a folder", "/people/astronaut.png", 200, "image/png", dims=[512, 512]),
        case("HEAD", "/logo.png", 200, "image/png", method="HEAD",
             extra=["pm.expect(pm.response.headers.get('Content-Length')).to.eql('179723');"]),
        case("OPTIONS", "/logo.png", 204, None, method="OPTIONS",
             extra=["pm.expect(pm.response.headers.get('Allow')).to.eql('GET, HEAD, OPTIONS');"]),
    ],
    "Thumbor paths": [
        case("fit-in", "/fit-in/400x300/rocket.jpg", 200, "image/jpeg", dims=[400, 267]),
        case("fit-in portrait", "/fit-in/400x300/people/obama.jpg", 200, "image/jpeg", dims=[240, 300]),
        case("width only (0 height)", "/200x0/people/obama.jpg", 200, "image/jpeg", dims=[200, 250]),
        case("format(webp)", "/filters:format(webp)/rocket.jpg", 200, "image/webp", dims=[640, 427]),
        case("format(avif)", "/fit-in/250x250/filters:format(avif)/logo.png", 200, "image/avif", dims=[250, 250]),
        case("grayscale + png", "/fit-in/300x300/filters:grayscale():format(png)/people/astronaut.png", 200,
             "image/png", dims=[300, 300]),
    ],
    "Default (base64 JSON)": [
        case("cover + grayscale", "/" + b64({"bucket": BUCKET, "key": "rocket.jpg", "edits": {
            "resize": {"width": 300, "height": 300, "fit": "cover"}, "grayscale": True}}),
             200, "image/jpeg", dims=[300, 300]),
        case("width only", "/" + b64({"key": "people/biden.jpg", "edits": {"resize": {"width": 100}}}),
             200, "image/jpeg", dims=[100, 227]),
        case("outputFormat webp", "/" + b64({"key": "rocket.jpg", "outputFormat": "webp", "edits": {
            "resize": {"width": 64, "height": 64, "fit": "cover"}}}), 200, "image/webp", dims=[64, 64]),
        case("crop", "/" + b64({"key": "logo.png", "edits": {
            "crop": {"left": 0, "top": 0, "width": 100, "height": 50}}}), 200, "image/png", dims=[100, 50]),
        case("rotate 90", "/" + b64({"key": "rocket.jpg", "edits": {"rotate": 90}}), 200, "image/jpeg",
             dims=[427, 640]),
        case("custom headers (deny list applies)", "/" + b64({"key": "logo.png", "headers": {
            "Cache-Control": "max-age=60", "X-Frame-Options": "DENY"}}), 200, "image/png", dims=[500, 500],
             extra=["pm.expect(pm.response.headers.get('Cache-Control')).to.eql('max-age=60');",
                    "pm.expect(pm.response.headers.has('X-Frame-Options')).to.be.false;"]),
    ],
    "Query parameters": [
        case("width + format", "/people/astronaut.png?width=300&format=webp", 200, "image/webp", dims=[300, 300]),
        case("fill", "/logo.png?width=100&height=50&fit=fill", 200, "image/png", dims=[100, 50]),
        case("over a Thumbor path", "/fit-in/400x400/rocket.jpg?width=64&height=64&fit=cover", 200,
             "image/jpeg", dims=[64, 64]),
    ],
    "Errors": [
        case("Missing key: 404 NoSuchKey", "/no-such-image.jpg", 404, "application/json", code="NoSuchKey",
             extra=["pm.expect(pm.response.headers.get('Cache-Control')).to.eql('max-age=10');"]),
        case("Bucket not allowed: 403", "/" + b64({"bucket": "not-allowed", "key": "rocket.jpg"}), 403,
             "application/json", code="ImageBucket::CannotAccessBucket"),
        case("Unsupported extension: 400", "/rocket.bmp", 400, "application/json", code="RequestTypeError"),
        case("Expired URL: 400", "/rocket.jpg?expires=20000101T000000Z", 400, "application/json",
             code="ImageRequestExpired"),
        case("Path traversal: 404", "/..%2fpixfront-samples%2f..%2f..%2frocket.jpg", 404, "application/json",
             code="NoSuchKey"),
        case("Method not allowed: 405", "/rocket.jpg", 405, "application/json", method="POST", code="MethodNotAllowed"),
    ],
}

# Run against a server started with ENABLE_SIGNATURE=Yes and SIGNATURE_SECRET={{signatureSecret}}
# (scripts/test starts one); the pre-request script signs like `pixfront sign`.
SIGNED = [
    case("Signed Thumbor URL", "/fit-in/100x100/logo.png", 200, "image/png", dims=[100, 100], sign=True),
    case("Signed query URL", "/logo.png?width=50", 200, "image/png", dims=[50, 50], sign=True),
    case("Missing signature: 400", "/logo.png", 400, "application/json", code="AuthorizationQueryParametersError"),
    case("Wrong signature: 403", "/logo.png?signature=0000", 403, "application/json", code="SignatureDoesNotMatch"),
]
FOLDERS["Signed URLs"] = SIGNED

# Sorted query (v7 string to sign), HMAC-SHA256 hex, as `pixfront sign` does.
SIGN_JS = """
const params = pm.request.url.query.all().filter(p => p.key !== 'signature' && !p.disabled);
params.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
let message = '/' + pm.request.url.path.join('/');
if (params.length) message += '?' + params.map(p => p.key + '=' + (p.value || '')).join('&');
const key = pm.environment.get('signatureSecret') || pm.collectionVariables.get('signatureSecret');
pm.request.url.query.upsert({ key: 'signature', value: CryptoJS.HmacSHA256(message, key).toString(CryptoJS.enc.Hex) });
"""


def item(c):
    tests = [DIMS_JS,
             f"pm.test('status {c['status']}', () => pm.response.to.have.status({c['status']}));",
             ]
    if c["ctype"]:
        tests.append(f"pm.test('content type', () => pm.expect(pm.response.headers.get('Content-Type'))"
                     f".to.eql({json.dumps(c['ctype'])}));")
    if c["dims"]:
        tests.append(f"pm.test('dimensions {c['dims'][0]}x{c['dims'][1]}', () => "
                     f"pm.expect(dims(pm.response.stream)).to.eql({json.dumps(c['dims'])}));")
    if c["code"]:
        tests.append(f"pm.test('error code', () => pm.expect(pm.response.json().code).to.eql({json.dumps(c['code'])}));")
    if c["extra"]:
        tests.append("pm.test('headers and body', () => {\n  " + "\n  ".join(c["extra"]) + "\n});")
    path, _, query = c["path"].partition("?")
    url = {"raw": "{{baseUrl}}" + c["path"], "host": ["{{baseUrl}}"],
           "path": [p for p in path.split("/") if p]}
    if query:
        url["query"] = [dict(zip(("key", "value"), (kv.split("=", 1) + [None])[:2])) for kv in query.split("&")]
    return {
        "name": c["name"],
        "request": {"method": c["method"], "header": [{"key": k, "value": v} for k, v in c["headers"].items()],
                    "url": url, "description": c["desc"]},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": "\n".join(tests).splitlines()}}]
        + ([{"listen": "prerequest", "script": {"type": "text/javascript", "exec": SIGN_JS.strip().splitlines()}}]
           if c["sign"] else []),
    }


collection = {
    "info": {
        "name": "pixfront",
        "description": "Every URL dialect, common edits, signed URLs and error cases of pixfront "
                       "(SIH-compatible). Set `baseUrl` (default http://127.0.0.1:8080, where "
                       "`cargo run --release -- serve` listens with the bundled samples). "
                       "Generated by scripts/gen-postman.py.",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "item": [{"name": f, "item": [item(c) for c in cs]} for f, cs in FOLDERS.items()],
    "variable": [{"key": "bucket", "value": BUCKET}, {"key": "etag", "value": ""},
                 {"key": "signatureSecret", "value": "pixfront-demo-secret"}],
}
environment = {
    "name": "pixfront local",
    "values": [{"key": "baseUrl", "value": "http://127.0.0.1:8080", "enabled": True},
               {"key": "signatureSecret", "value": "pixfront-demo-secret", "enabled": True}],
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "postman")
with open(os.path.join(here, "pixfront.postman_collection.json"), "w") as f:
    json.dump(collection, f, indent=2)
    f.write("\n")
with open(os.path.join(here, "pixfront.postman_environment.json"), "w") as f:
    json.dump(environment, f, indent=2)
    f.write("\n")
