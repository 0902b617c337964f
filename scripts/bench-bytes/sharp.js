// The sharp side of scripts/bench-bytes/run.sh, driven by benches/bytes.rs:
//   node sharp.js <input> <outdir> <jobs.json>
// jobs: [{"size": 640, "format": "jpeg", "options": {"quality": 80}}, ...]. For each size it
// writes <size>.ref.png (the resized image, lossless), and for each job <size>.<format> and
// that output decoded back to <size>.<format>.png. Prints one JSON line: bytes and CPU ms of
// each job (one run, with one libvips thread). Transparent pixels are judged over white.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

sharp.cache(false);
sharp.concurrency(1);

function resized(input, size) {
  return sharp(input).resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true });
}

function toPng(buf, out) {
  return sharp(buf).flatten({ background: '#ffffff' }).removeAlpha().png({ compressionLevel: 1 }).toFile(out);
}

async function main() {
  const [file, outdir, jobsFile] = process.argv.slice(2);
  const input = fs.readFileSync(file);
  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  const results = [];
  const sizes = [...new Set(jobs.map((j) => j.size))];
  for (const size of sizes) {
    const ref = await resized(input, size).png({ compressionLevel: 1 }).toBuffer();
    await toPng(ref, path.join(outdir, `${size}.ref.png`));
  }
  for (const job of jobs) {
    const cpu0 = process.cpuUsage();
    const data = await resized(input, job.size).toFormat(job.format, job.options || {}).toBuffer();
    const cpu = process.cpuUsage(cpu0);
    const out = path.join(outdir, `${job.size}.${job.format}`);
    fs.writeFileSync(out, data);
    await toPng(data, `${out}.png`);
    results.push({ size: job.size, format: job.format, bytes: data.length, cpu_ms: (cpu.user + cpu.system) / 1000 });
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
