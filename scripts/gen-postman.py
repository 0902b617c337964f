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


def case(name, path, status, ctype, dims=None, method="GET", headers=None, code=None, extra=None, desc=""):
    return dict(name=name, path=path, status=status, ctype=ctype, dims=dims, method=method,
                headers=headers or {}, code=code, extra=extra or [], desc=desc)


FOLDERS = {
    "Service endpoints": [
        case("Health", "/?health", 200, "application/json",
             extra=["pm.expect(pm.response.json().status).to.eql('ok');"],
             desc="Storage reachable. The path / can never be an image key, so service endpoints live there."),
        case("Demo page", "/", 200, "text/html; charset=utf-8",
             extra=["pm.expect(pm.response.text()).to.include('pixfront demo');"]),
    ],
    "Originals": [
        case("JPEG original", "/rocket.jpg", 200, "image/jpeg", dims=[640, 427],
             extra=["pm.expect(pm.response.headers.get('ETag')).to.match(/^\"[0-9a-f]{32}\"$/);",
                    "pm.expect(pm.response.headers.get('Cache-Control')).to.eql('max-age=31536000,public');",
                    "pm.expect(pm.response.headers.get('Server-Timing')).to.include('fetch;dur=');"]),
        case("PNG original in a folder", "/people/astronaut.png", 200, "image/png", dims=[512, 512]),
        case("HEAD", "/logo.png", 200, "image/png", method="HEAD",
             extra=["pm.expect(pm.response.headers.get('Content-Length')).to.eql('179723');"]),
    ],
    "Errors": [
        case("Missing key: 404 NoSuchKey", "/no-such-image.jpg", 404, "application/json", code="NoSuchKey",
             extra=["pm.expect(pm.response.headers.get('Cache-Control')).to.eql('max-age=10');"]),
        case("Path traversal: 404", "/..%2fpixfront-samples%2f..%2f..%2frocket.jpg", 404, "application/json", code="NoSuchKey"),
        case("Method not allowed: 405", "/rocket.jpg", 405, "application/json", method="POST", code="MethodNotAllowed"),
    ],
}


def item(c):
    tests = [DIMS_JS,
             f"pm.test('status {c['status']}', () => pm.response.to.have.status({c['status']}));",
             f"pm.test('content type', () => pm.expect(pm.response.headers.get('Content-Type')).to.eql({json.dumps(c['ctype'])}));"]
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
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": "\n".join(tests).splitlines()}}],
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
    "variable": [{"key": "bucket", "value": BUCKET}],
}
environment = {
    "name": "pixfront local",
    "values": [{"key": "baseUrl", "value": "http://127.0.0.1:8080", "enabled": True}],
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "postman")
with open(os.path.join(here, "pixfront.postman_collection.json"), "w") as f:
    json.dump(collection, f, indent=2)
    f.write("\n")
with open(os.path.join(here, "pixfront.postman_environment.json"), "w") as f:
    json.dump(environment, f, indent=2)
    f.write("\n")
