import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

/**
 * The machine a `bootstrap` executable was built for, read from its ELF header, in a folder or
 * in `scripts/package-lambda`'s zip. Catches an x86_64 build deployed as arm64 (or back) at synth
 * time instead of as `Runtime.InvalidEntrypoint` on the first request. `undefined` when there is
 * no ELF `bootstrap` to read (e.g. the placeholder script). Hand-written: reading one entry's
 * first bytes needs no zip library, and the repository's test dependencies stay small.
 */
export function bootstrapArchitecture(codePath: string): 'x86_64' | 'arm64' | undefined {
  const head = fs.statSync(codePath).isDirectory()
    ? readHead(path.join(codePath, 'bootstrap'))
    : zipEntryHead(fs.readFileSync(codePath), 'bootstrap');
  if (!head || head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  if (machine === 0x3e) return 'x86_64';
  if (machine === 0xb7) return 'arm64';
  return undefined;
}

function readHead(file: string): Buffer | undefined {
  if (!fs.existsSync(file)) return undefined;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, fs.readSync(fd, buf, 0, 64, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** First bytes of the entry `name`, walking the zip's local file headers. */
function zipEntryHead(zip: Buffer, name: string): Buffer | undefined {
  let at = 0;
  while (at + 30 <= zip.length && zip.readUInt32LE(at) === 0x04034b50) {
    const flags = zip.readUInt16LE(at + 6);
    const method = zip.readUInt16LE(at + 8);
    const compressedSize = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const extraLength = zip.readUInt16LE(at + 28);
    const data = at + 30 + nameLength + extraLength;
    if (zip.toString('utf8', at + 30, at + 30 + nameLength) === name) {
      const chunk = zip.subarray(data, data + 64 * 1024);
      if (method === 0) return chunk.subarray(0, 64);
      if (method === 8) {
        // A prefix of the deflate stream inflates to a prefix of the file.
        return zlib.inflateRawSync(chunk, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, 64);
      }
      return undefined;
    }
    // Sizes in a trailing data descriptor (flag bit 3) are not known here: stop looking.
    if (flags & 0x08) return undefined;
    at = data + compressedSize;
  }
  return undefined;
}
