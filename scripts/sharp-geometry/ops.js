// Renders faces/hopper_128.jpg through sharp for each edit list in CASES, the way SIH calls
// sharp (`image[key](value)` in key order), and writes <name>.png plus cases.json into the
// folder given as argv[2]. tests/ops_vs_sharp.rs compares pixfront's output with these.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

const CASES = {
  blur_mild: { blur: true },
  blur_3: { blur: 3 },
  sharpen_mild: { sharpen: true },
  sharpen_options: { sharpen: { sigma: 2, m1: 0, m2: 3 } },
  median_5: { median: 5 },
  normalize: { normalize: true },
  negate: { negate: true },
  grayscale: { grayscale: true },
  tint: { tint: { r: 48, g: 96, b: 192 } },
  modulate: { modulate: { brightness: 1.2, saturation: 1.5, hue: 40 } },
  convolve: { convolve: { width: 3, height: 3, kernel: [-1, -1, -1, -1, 8, -1, -1, -1, -1] } },
  resize_64: { resize: { width: 64 } },
  resize_cover: { resize: { width: 50, height: 30 } },
  resize_entropy: { resize: { width: 40, height: 120, position: 'entropy' } },
  gamma_resize: { gamma: 2.2, resize: { width: 64 } },
  extend_mirror: { extend: { top: 5, left: 7, extendWith: 'mirror' } },
  rotate_flip: { rotate: 90, flip: true },
  linear: { linear: 1.3 },
  recomb_sepia: { recomb: [[0.3588, 0.7044, 0.1368], [0.299, 0.587, 0.114], [0.2392, 0.4696, 0.0912]] },
  clahe: { clahe: { width: 16, height: 16 } },
  to_bw_then_tint: { toColourspace: 'b-w', tint: { r: 48, g: 96, b: 192 } },
  extract_green: { extractChannel: 'green' },
  affine_shear: { affine: [[1, 0.3], [0.1, 0.9]] },
};

async function main() {
  const out = process.argv[2];
  const src = process.argv[3];
  fs.mkdirSync(out, { recursive: true });
  for (const [name, edits] of Object.entries(CASES)) {
    let image = sharp(src);
    for (const [key, value] of Object.entries(edits)) image = image[key](value);
    await image.ensureAlpha().png().toFile(path.join(out, `${name}.png`));
  }
  fs.writeFileSync(path.join(out, 'cases.json'), JSON.stringify(CASES, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
