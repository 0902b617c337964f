// sharp's quality ladder for scripts/bench-bytes/butteraugli/run.sh:
//   node ladder.js <corpus> <outdir> <size>
// For each image: the resize into a <size> box (as benches/bytes.rs), lossless, and JPEG and
// WebP at qualities 20, 23, …, 98 (80 among them), each decoded back to PNG by sharp with
// transparent pixels over white. Writes <outdir>/rows.json: image, format, quality, bytes and
// the two PNGs' paths.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

sharp.cache(false);
sharp.concurrency(1);

const flat = (buf, out) =>
  sharp(buf).flatten({ background: '#ffffff' }).removeAlpha().png({ compressionLevel: 1 }).toFile(out);

async function main() {
  const [corpus, out, size] = process.argv.slice(2);
  const qualities = [];
  for (let q = 20; q <= 98; q += 3) qualities.push(q);
  const rows = [];
  for (const name of fs.readdirSync(corpus).sort()) {
    const input = fs.readFileSync(path.join(corpus, name));
    const resized = () =>
      sharp(input).resize({ width: +size, height: +size, fit: 'inside', withoutEnlargement: true });
    const ref = path.join(out, `${name}.ref.png`);
    await flat(await resized().png({ compressionLevel: 1 }).toBuffer(), ref);
    for (const format of ['jpeg', 'webp']) {
      for (const quality of qualities) {
        const data = await resized().toFormat(format, { quality }).toBuffer();
        const dist = path.join(out, `${name}.${format}.${quality}.png`);
        await flat(data, dist);
        rows.push({ image: name, format, quality, bytes: data.length, ref, dist });
      }
    }
    console.error(name);
  }
  fs.writeFileSync(path.join(out, 'rows.json'), JSON.stringify(rows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
