// Prints sharp's output width/height for every fit × a grid of target sizes × a few input sizes,
// as JSON (one row per line) on stdout. Used to build tests/data/sharp_geometry.json.
'use strict';
const sharp = require('sharp');

const inputs = [[640, 480], [101, 67], [67, 101], [7, 3], [1, 1], [40, 3]];
const dims = [null, 1, 2, 3, 5, 33, 99, 100, 101, 333, 640, 999];
const fits = ['cover', 'contain', 'fill', 'inside', 'outside'];
const flags = [{}, { withoutEnlargement: true }, { withoutReduction: true }];

async function main() {
  const rows = [];
  for (const [iw, ih] of inputs) {
    // A real PNG (not raw input) so sharp takes its normal decode path; PNG has no
    // shrink-on-load, so the table shows the resize geometry alone.
    const png = await sharp({ create: { width: iw, height: ih, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    for (const fit of fits) {
      console.error(`${iw}x${ih} ${fit}`);
      for (const width of dims) {
        for (const height of dims) {
          if (width === null && height === null) continue;
          for (const flag of flags) {
            const opts = { width, height, fit, ...flag };
            const row = { in: [iw, ih], width, height, fit, ...flag };
            try {
              const { info } = await sharp(png).resize(opts).raw().toBuffer({ resolveWithObject: true });
              row.out = [info.width, info.height];
            } catch (e) {
              row.error = String(e.message);
            }
            rows.push(row);
          }
        }
      }
    }
  }
  const lines = rows.map((r) => '  ' + JSON.stringify(r));
  process.stdout.write(
    '{\n"sharp": ' + JSON.stringify(sharp.versions) + ',\n"rows": [\n' + lines.join(',\n') + '\n]}\n'
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
