// The sharp side of `scripts/bench-compare/run.sh`, driven by benches/compare.rs (which owns the
// workload list and passes each one here as JSON). Commands, one JSON line out each:
//   render <spec> <input> <out>               one output written to <out>, with sharp's info
//   time <spec> <input> <workers> <runs>      <workers> chains of <runs> operations at once
//   decode <file> <out.png>                   first frame → RGB PNG (for the quality score)
// A spec is {"animated": bool, "resize": {...}, "format": "jpeg", "options": {...}}.
// sharp is configured as the comparison asks: cache off, one libvips thread per image; the
// parent sets UV_THREADPOOL_SIZE to the number of workers.
'use strict';
const fs = require('fs');
const sharp = require('sharp');

sharp.cache(false);
sharp.concurrency(1);

function pipeline(spec, input) {
  return sharp(input, { animated: !!spec.animated })
    .resize(spec.resize)
    .toFormat(spec.format, spec.options || {});
}

// A /proc/self/status field in KiB: VmRSS (now) or VmHWM (peak). Not resourceUsage().maxRSS,
// which after the parent's vfork + exec can report the parent's own peak.
function statusKib(field) {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function render(spec, file, out) {
  const { data, info } = await pipeline(spec, fs.readFileSync(file)).toBuffer({ resolveWithObject: true });
  fs.writeFileSync(out, data);
  return { bytes: data.length, width: info.width, height: info.pageHeight || info.height, pages: info.pages || 1 };
}

async function time(spec, file, workers, runs) {
  const input = fs.readFileSync(file);
  const idle = statusKib('VmRSS');
  // One warm-up operation per worker (first-use costs: library init, thread pool start).
  await Promise.all(Array.from({ length: workers }, () => pipeline(spec, input).toBuffer()));
  const ms = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < runs; i++) {
        const s = process.hrtime.bigint();
        await pipeline(spec, input).toBuffer();
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    })
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return {
    ms,
    wall_ms: wallMs,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    idle_rss_kib: idle,
    peak_rss_kib: statusKib('VmHWM'),
  };
}

async function decode(file, out) {
  const img = sharp(fs.readFileSync(file), { pages: 1 });
  const meta = await img.metadata();
  // Transparent pixels are judged over white: their hidden colour does not matter.
  await img.flatten({ background: '#ffffff' }).removeAlpha().png({ compressionLevel: 1 }).toFile(out);
  return { width: meta.width, height: meta.pageHeight || meta.height, pages: meta.pages || 1, format: meta.format };
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  let result;
  if (cmd === 'render') result = await render(JSON.parse(a[0]), a[1], a[2]);
  else if (cmd === 'time') result = await time(JSON.parse(a[0]), a[1], Number(a[2]), Number(a[3]));
  else if (cmd === 'decode') result = await decode(a[0], a[1]);
  else if (cmd === 'versions') result = sharp.versions;
  else throw new Error(`unknown command ${cmd}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
