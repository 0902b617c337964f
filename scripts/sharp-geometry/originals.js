// The resize geometry of real originals through sharp, shrink-on-load included: writes small
// originals made here (JPEG baseline/progressive, 4:2:0/4:4:4, EXIF orientations 2-8, WebP,
// PNG, GIF, SVG) into tests/data/geometry/, then prints one row per request as JSON on stdout
// (tests/data/sharp_geometry_originals.json). Shared originals (argv[3]) add camera-sized JPEGs
// and WebPs. Targets are chosen from each original's size so every JPEG factor (1, 2, 4, 8),
// the floor(shrink) == factor edge, WebP/SVG scaling and enlargement are all reached.
// sharp is called the way pixfront behaves: EXIF orientation always applied (autoOrient), the
// edits in key order as SIH calls them, PNG out.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

const outDir = process.argv[2];
const shared = process.argv[3];

// A smooth picture (gradients, a few edges) that compresses to a few kilobytes.
function pixels(w, h, channels) {
  const buf = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * channels;
      buf[i] = (x * 255) / w;
      buf[i + 1] = (y * 255) / h;
      buf[i + 2] = ((x >> 5) + (y >> 5)) % 2 ? 200 : 60;
      if (channels === 4) buf[i + 3] = x < w / 4 ? 128 : 255;
    }
  }
  return buf;
}

const raw = (w, h, channels = 3) => sharp(pixels(w, h, channels), { raw: { width: w, height: h, channels } });

async function makeOriginals() {
  fs.mkdirSync(outDir, { recursive: true });
  const made = {
    'b420.jpg': raw(1001, 667).jpeg({ quality: 60 }),
    'p444.jpg': raw(999, 1333).jpeg({ quality: 60, progressive: true, chromaSubsampling: '4:4:4' }),
    'lossy.webp': raw(1001, 667).webp({ quality: 60 }),
    'alpha.webp': raw(501, 333, 4).webp({ quality: 60 }),
    'rgb.png': raw(1001, 667).png({ compressionLevel: 9 }),
    'frame.gif': raw(333, 221).gif(),
  };
  for (let o = 2; o <= 8; o++) {
    made[`o${o}.jpg`] = raw(601, 403).jpeg({ quality: 60 }).withMetadata({ orientation: o });
  }
  for (const [name, img] of Object.entries(made)) await img.toFile(path.join(outDir, name));
  fs.writeFileSync(
    path.join(outDir, 'shapes.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="1001" height="667" viewBox="0 0 1001 667">' +
      '<rect width="1001" height="667" fill="#4a8"/><circle cx="500" cy="333" r="300" fill="#c42"/></svg>\n'
  );
}

// Target lengths for one side of `len` pixels: around each factor and its edge, small, large.
function lengths(len) {
  const out = new Set([1, 33, Math.round(len * 1.3)]);
  for (const f of [1.5, 2, 2.5, 3.99, 4, 4.2, 7.9, 8, 8.5, 16, 30]) {
    out.add(Math.max(1, Math.floor(len / f)));
    out.add(Math.max(1, Math.ceil(len / f)));
  }
  return [...out].sort((a, b) => a - b);
}

const fits = ['cover', 'contain', 'fill', 'inside', 'outside'];

function requests(w, h, full) {
  const ws = lengths(w);
  const hs = lengths(h);
  const reqs = [];
  const flagSets = full ? [{}, { withoutEnlargement: true }, { withoutReduction: true }] : [{}];
  for (const width of ws) {
    for (const fit of full ? ['cover', 'fill'] : ['inside']) {
      for (const flag of flagSets) reqs.push({ resize: { width, fit, ...flag } });
    }
  }
  for (const height of hs) {
    for (const fit of full ? ['inside', 'fill'] : ['cover']) reqs.push({ resize: { height, fit } });
  }
  // Both sides: the same factor, and a different factor on each side (crossed aspect).
  for (let i = 0; i < ws.length; i++) {
    const pairs = [[ws[i], hs[i]], [ws[i], hs[(i + 5) % hs.length]]];
    for (const [width, height] of pairs) {
      for (const fit of full ? fits : ['cover', 'inside', 'contain']) {
        for (const flag of i % 3 === 0 ? flagSets : [{}]) reqs.push({ resize: { width, height, fit, ...flag } });
      }
    }
  }
  // What stops sharp shrinking on load, and the option that keeps a factor of two.
  const tw = Math.round(w / 8.5);
  reqs.push(
    { resize: { width: tw, fastShrinkOnLoad: false } },
    { resize: { width: Math.round(w / 4.5), height: Math.round(h / 3), fastShrinkOnLoad: false } },
    { gamma: 2.2, resize: { width: tw } },
    { resize: { width: tw }, gamma: 2.2 },
    { rotate: 90, resize: { width: tw } },
    { resize: { width: tw }, rotate: 90 },
    { flip: true, resize: { width: tw } },
    { grayscale: true, resize: { width: tw, height: Math.round(h / 5) } },
    { blur: 2, resize: { width: tw } },
    { crop: { left: 3, top: 5, width: w - 10, height: h - 20 }, resize: { width: tw } },
    { resize: { width: Math.round(w / 3) }, crop: { left: 1, top: 2, width: 20, height: 10 } },
    { resize: { ratio: 0.1 } },
    { resize: { width: 100, height: 100, ratio: 0.33 } }
  );
  return reqs;
}

// SIH's Thumbor mapping of `WxH` and `fit-in` (a 0 is null and adds fit: inside).
function thumbor(w, h) {
  const out = [];
  for (const [tw, th] of [[Math.round(w / 5), Math.round(h / 5)], [0, Math.round(h / 11.3)], [Math.round(w / 30), 0], [33, 33]]) {
    for (const fitIn of [false, true]) {
      const resize = {};
      if (tw === 0 || th === 0) resize.fit = 'inside';
      resize.width = tw === 0 ? null : tw;
      resize.height = th === 0 ? null : th;
      if (fitIn) resize.fit = 'inside';
      out.push({ path: `${fitIn ? '/fit-in' : ''}/${tw}x${th}`, edits: { resize } });
    }
  }
  return out;
}

async function render(bytes, edits) {
  let image = sharp(bytes, { autoOrient: true, failOnError: false });
  for (const [key, value] of Object.entries(edits)) {
    if (key === 'crop') image = image.extract(value);
    else if (key === 'resize' && value.ratio !== undefined) {
      // SIH: round(W·ratio), round(H·ratio) of the given size, else of the original; fit inside.
      const { ratio, ...rest } = value;
      const meta = await sharp(bytes, { autoOrient: true }).metadata();
      const base = rest.width && rest.height ? [rest.width, rest.height] : [meta.autoOrient.width, meta.autoOrient.height];
      image = image.resize({ fit: 'inside', ...rest, width: Math.round(base[0] * ratio), height: Math.round(base[1] * ratio) });
    } else image = image[key](value);
  }
  const { info } = await image.png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true });
  return [info.width, info.height];
}

async function main() {
  await makeOriginals();
  const own = fs.readdirSync(outDir).filter((f) => !f.endsWith('.md')).sort().map((f) => ({ file: `geometry/${f}`, abs: path.join(outDir, f), full: ['b420.jpg', 'p444.jpg', 'lossy.webp', 'o6.jpg', 'shapes.svg'].includes(f) }));
  const sharedFiles = ['large/kleiber_6028x3391.jpg', 'faces/obama.jpg', 'faces/biden_fullbody.jpg', 'formats/rocket.jpg', 'formats/hopper.webp', 'faces/hopper_exif_orientation6.jpg', 'formats/cmyk.jpg'];
  const originals = own.concat(sharedFiles.map((f) => ({ file: `shared:${f}`, abs: path.join(shared, f), full: false })));
  const rows = [];
  for (const o of originals) {
    const bytes = fs.readFileSync(o.abs);
    const meta = await sharp(bytes, { autoOrient: true }).metadata();
    const { width: w, height: h } = meta.autoOrient;
    console.error(`${o.file} ${w}x${h}`);
    let reqs = requests(w, h, o.full);
    if (o.file.endsWith('.svg')) reqs = reqs.filter((r) => !(r.resize && r.resize.ratio));
    const all = reqs.map((edits) => ({ edits })).concat(thumbor(w, h));
    for (const r of all) {
      const row = { file: o.file, ...r };
      try {
        row.out = await render(bytes, r.edits);
      } catch (e) {
        row.error = String(e.message);
      }
      if (row.path) delete row.edits;
      // Camera-sized originals: only reductions to at most a quarter of the area (the test
      // renders every row in a debug build; large outputs add time, not paths).
      if (w * h > 4e6 && row.out && row.out[0] * row.out[1] > (w * h) / 4) continue;
      rows.push(row);
    }
  }
  const lines = rows.map((r) => '  ' + JSON.stringify(r));
  process.stdout.write('{\n"sharp": ' + JSON.stringify(sharp.versions) + ',\n"rows": [\n' + lines.join(',\n') + '\n]}\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
