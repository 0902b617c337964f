import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { App } from 'aws-cdk-lib';
import { bootstrapArchitecture } from '../lib/elf-arch';
import { PLACEHOLDER_CODE } from '../lib/pixfront';
import { PixfrontStack } from '../lib/stack';

/** A 64-byte little-endian ELF64 header for `machine` (0x3e x86-64, 0xb7 AArch64), then padding. */
function elf(machine: number): Buffer {
  const b = Buffer.alloc(4096, 0x90);
  b.fill(0, 0, 64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // 64-bit
  b[5] = 1; // little-endian
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  return b;
}

/** One-entry zip (local header, data, central directory, end record), deflated or stored. */
function zip(name: string, content: Buffer, deflate: boolean): Buffer {
  const data = deflate ? zlib.deflateRawSync(content) : content;
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(deflate ? 8 : 0, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(deflate ? 8 : 0, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(n.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12);
  end.writeUInt32LE(30 + n.length + data.length, 16);
  return Buffer.concat([local, n, data, central, n, end]);
}

describe('bootstrap architecture check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixfront-cdk-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: Buffer) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  };

  test('reads the ELF machine from a folder and from stored or deflated zips', () => {
    write('arm-folder/bootstrap', elf(0xb7));
    expect(bootstrapArchitecture(path.join(dir, 'arm-folder'))).toBe('arm64');
    expect(bootstrapArchitecture(write('x86-deflated.zip', zip('bootstrap', elf(0x3e), true)))).toBe('x86_64');
    expect(bootstrapArchitecture(write('arm-stored.zip', zip('bootstrap', elf(0xb7), false)))).toBe('arm64');
    expect(bootstrapArchitecture(write('other-name.zip', zip('main', elf(0xb7), true)))).toBeUndefined();
    expect(bootstrapArchitecture(PLACEHOLDER_CODE)).toBeUndefined();
  });

  test('a zip made by the zip tool, as cargo-lambda-like output', () => {
    const src = path.join(dir, 'tool');
    write('tool/bootstrap', elf(0x3e));
    const out = path.join(dir, 'tool.zip');
    try {
      execFileSync('zip', ['-q', '-j', out, path.join(src, 'bootstrap')]);
    } catch {
      return; // no zip tool here: the hand-built zips above cover the format
    }
    expect(bootstrapArchitecture(out)).toBe('x86_64');
  });

  test('synthesis refuses a bootstrap built for the other architecture', () => {
    const x86 = write('x86.zip', zip('bootstrap', elf(0x3e), true));
    const stack = (architecture: 'x86_64' | 'arm64') =>
      new PixfrontStack(new App(), 'Test', { pixfront: { sourceBuckets: ['my-originals'], codePath: x86, architecture } });
    expect(() => stack('arm64')).toThrow(/holds an x86_64 bootstrap but the function is arm64.*package-lambda arm64/);
    expect(() => stack('x86_64')).not.toThrow();
  });
});
