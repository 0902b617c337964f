// Cold start of the pixfront binary, driven by scripts/bench-coldstart/run.sh (which builds it
// and makes the bucket folder). No npm packages: Node's own http module plays the client and,
// for the Lambda bootstrap, a minimal Lambda Runtime API (next / response / error / init error).
//   node coldstart.js <pixfront binary> <root folder> <runs>
// Prints a markdown table of medians (and min/max) over <runs> fresh processes each:
//   serve:   process start → listening (banner printed) → first image answered in full
//   lambda:  process start → first invocation's answer posted to the Runtime API
//   faces:   the first blur_faces request of a fresh server, and the same job on a second copy
//            of the original (model already loaded, result cache missed): the difference is the
//            face model's load cost.
'use strict';
const http = require('http');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [bin, root, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 10);
const IMAGE = '/fit-in/300x300/faces/obama.jpg';
// The face job as a Default (base64 JSON) request, so the same key can be asked from two buckets.
const facesPath = (bucket) =>
  '/' +
  Buffer.from(
    JSON.stringify({
      bucket,
      key: 'faces/obama.jpg',
      edits: { resize: { width: 300, height: 300, fit: 'inside' }, blurFaces: true },
    })
  ).toString('base64');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

// Only what the server needs: no settings leak in from the caller's shell.
function baseEnv(extra) {
  return { PATH: process.env.PATH, RUST_LOG: 'warn', ...extra };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', resolve);
    child.kill('SIGKILL');
  });
}

// Starts `pixfront serve`; resolves with {child, base, t0, listening} once the banner is out.
function startServe(buckets) {
  const t0 = now();
  const child = spawn(
    bin,
    ['serve', '--root', root, '--source-buckets', buckets, '--listen', '127.0.0.1:0', '--log-format', 'json'],
    { env: baseEnv({}), stdio: ['ignore', 'pipe', 'inherit'] }
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^pixfront serving .* on (http:\S+)$/m.exec(out);
      if (m) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, base: m[1], t0, listening: now() - t0 });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

async function coldServe() {
  const s = await startServe('bench');
  const res = await get(s.base + IMAGE);
  const first = now() - s.t0;
  await stop(s.child);
  if (res.status !== 200) throw new Error(`serve answered ${res.status}`);
  return { listening: s.listening, first };
}

async function coldFaces() {
  const s = await startServe('bench,copy');
  const t1 = now();
  const a = await get(s.base + facesPath('bench'));
  const withLoad = now() - t1;
  const t2 = now();
  const b = await get(s.base + facesPath('copy'));
  const loaded = now() - t2;
  const t3 = now();
  const c = await get(s.base + IMAGE);
  const plain = now() - t3;
  await stop(s.child);
  for (const r of [a, b, c]) if (r.status !== 200) throw new Error(`faces request answered ${r.status}: ${r.body}`);
  return { withLoad, loaded, plain, model: withLoad - loaded };
}

// A Lambda Runtime API serving one queued event; resolves when the answer is posted.
function runtimeApi(event) {
  let answered;
  const done = new Promise((r) => (answered = r));
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/2018-06-01/runtime/invocation/next') {
        if (server.served) return; // Long poll: the second `next` waits until the process is killed.
        server.served = true;
        res.writeHead(200, {
          'Lambda-Runtime-Aws-Request-Id': 'cold-1',
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60000),
          'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:pixfront',
          'Lambda-Runtime-Trace-Id': 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700',
          'Content-Type': 'application/json',
        });
        return res.end(JSON.stringify(event));
      }
      res.writeHead(202);
      res.end();
      answered({ t: now(), url: req.url, body: Buffer.concat(chunks) });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, done }))
  );
}

async function coldLambda(event) {
  const api = await runtimeApi(event);
  const t0 = now();
  const child = spawn(bin, [], {
    env: baseEnv({
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${api.port}`,
      AWS_LAMBDA_FUNCTION_NAME: 'pixfront',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/pixfront',
      AWS_LAMBDA_LOG_STREAM_NAME: 'cold',
      PIXFRONT_ROOT: root,
      SOURCE_BUCKETS: 'bench',
    }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const posted = await api.done;
  const first = posted.t - t0;
  await stop(child);
  api.server.closeAllConnections();
  api.server.close();
  const answer = JSON.parse(posted.body.toString());
  if (!posted.url.endsWith('/cold-1/response') || answer.statusCode !== 200) {
    throw new Error(`bootstrap posted to ${posted.url}: ${posted.body.toString().slice(0, 300)}`);
  }
  return { first };
}

function stats(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const f = (x) => x.toFixed(1);
  return `${f(v[Math.floor(v.length / 2)])} (${f(v[0])}–${f(v[v.length - 1])})`;
}

async function main() {
  const event = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../../tests/data/lambda/http_v2.json'), 'utf8')
  );
  event.rawPath = IMAGE;
  event.requestContext.http.path = IMAGE;
  event.pathParameters.proxy = IMAGE.slice(1);

  const serve = [];
  const lambda = [];
  const faces = [];
  for (let i = 0; i < runs; i++) {
    serve.push(await coldServe());
    lambda.push(await coldLambda(event));
    faces.push(await coldFaces());
  }
  const col = (rows, k) => stats(rows.map((r) => r[k]));
  console.log(`${runs} fresh processes each; median (min–max) in ms; the image is GET ${IMAGE}.\n`);
  console.log('| what | ms |');
  console.log('|---|---|');
  console.log(`| serve: process start → listening | ${col(serve, 'listening')} |`);
  console.log(`| serve: process start → first image served | ${col(serve, 'first')} |`);
  console.log(`| lambda bootstrap: process start → first image posted to the Runtime API | ${col(lambda, 'first')} |`);
  console.log(`| serve, warm: the same image request after the face requests | ${col(faces, 'plain')} |`);
  console.log(`| serve: first \`blurFaces\` request (model load + detection) | ${col(faces, 'withLoad')} |`);
  console.log(`| serve: same request on a copy of the original (model loaded, cache missed) | ${col(faces, 'loaded')} |`);
  console.log(`| face model load (difference of the two) | ${col(faces, 'model')} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
