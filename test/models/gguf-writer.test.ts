import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgmlType as NlcGgmlType, readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGgufHeader, type GgufFile, kv, writeGguf } from '../../src/models/gguf-writer.js';
import { quantize } from '../../src/models/quantize.js';
import { parseGguf } from './gguf-reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medeval-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function values(n: number, offset: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i + offset));
}

// Sizes chosen so most tensors end off the 32-byte grid and need padding.
const f32 = quantize(values(5, 0), 'F32'); // 20 bytes
const f16 = quantize(values(3 * 3, 1), 'F16'); // 18 bytes
const q8 = quantize(values(32 * 2, 2), 'Q8_0'); // 68 bytes
const q4 = quantize(values(64 * 3, 3), 'Q4_0'); // 108 bytes

const sample: GgufFile = {
  metadata: [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str('naïve ☃ model')],
    ['test.u8', kv.u8(250)],
    ['test.i32', kv.i32(-123456)],
    ['test.u32', kv.u32(4000000000)],
    ['test.u64', kv.u64(2n ** 40n)],
    ['test.f32', kv.f32(0.5)],
    ['test.f64', kv.f64(Math.PI)],
    ['test.bool', kv.bool(true)],
    ['test.strings', kv.array('string', ['<s>', '▁Answer', ''])],
    ['test.floats', kv.array('float32', [0, -1.5, 2.25])],
    ['test.ints', kv.array('int32', [1, -2, 6])],
    ['test.empty', kv.array('uint32', [])],
  ],
  tensors: [
    { name: 'a.weight', dims: [5], type: 'F32', data: f32 },
    { name: 'b.weight', dims: [3, 3], type: 'F16', data: () => f16 },
    { name: 'c.weight', dims: [32, 2], type: 'Q8_0', data: async () => q8 },
    { name: 'd.weight', dims: [64, 3], type: 'Q4_0', data: q4 },
  ],
};

describe('writeGguf', () => {
  it('writes a GGUF v3 file that parses back to the same metadata and tensors', async () => {
    const file = join(dir, 'sample.gguf');
    const result = await writeGguf(file, sample);
    const buf = await readFile(file);
    expect(buf.length).toBe(result.bytes);
    expect(buf.toString('latin1', 0, 4)).toBe('GGUF');

    const parsed = parseGguf(buf);
    expect(parsed.version).toBe(3);
    expect(parsed.dataOffset).toBe(result.dataOffset);
    expect(parsed.dataOffset % 32).toBe(0);
    const m = (key: string) => parsed.metadata.get(key);
    expect(m('general.name')).toEqual({ type: 8, value: 'naïve ☃ model' });
    expect(m('test.u8')).toEqual({ type: 0, value: 250 });
    expect(m('test.i32')).toEqual({ type: 5, value: -123456 });
    expect(m('test.u32')).toEqual({ type: 4, value: 4000000000 });
    expect(m('test.u64')).toEqual({ type: 10, value: 2n ** 40n });
    expect(m('test.f32')).toEqual({ type: 6, value: 0.5 });
    expect(m('test.f64')).toEqual({ type: 12, value: Math.PI });
    expect(m('test.bool')).toEqual({ type: 7, value: true });
    expect(m('test.strings')).toEqual({ type: 9, itemType: 8, value: ['<s>', '▁Answer', ''] });
    expect(m('test.floats')).toEqual({ type: 9, itemType: 6, value: [0, -1.5, 2.25] });
    expect(m('test.ints')).toEqual({ type: 9, itemType: 5, value: [1, -2, 6] });
    expect(m('test.empty')).toEqual({ type: 9, itemType: 4, value: [] });
    // The writer adds the alignment it used.
    expect(m('general.alignment')).toEqual({ type: 4, value: 32 });
    expect(parsed.metadata.size).toBe(sample.metadata.length + 1);

    expect(parsed.tensors.map(({ name, dims, type }) => ({ name, dims, type }))).toEqual([
      { name: 'a.weight', dims: [5], type: 0 },
      { name: 'b.weight', dims: [3, 3], type: 1 },
      { name: 'c.weight', dims: [32, 2], type: 8 },
      { name: 'd.weight', dims: [64, 3], type: 2 },
    ]);
    const datas = [f32, f16, q8, q4];
    parsed.tensors.forEach((t, i) => {
      expect(t.offset % 32, `${t.name} offset`).toBe(0);
      const start = parsed.dataOffset + t.offset;
      expect(Buffer.compare(buf.subarray(start, start + datas[i].length), Buffer.from(datas[i])), t.name).toBe(0);
    });
    // Every tensor, the last one included, is padded to the alignment.
    expect(buf.length % 32).toBe(0);
    expect(buf.length).toBe(parsed.dataOffset + parsed.tensors[3].offset + 128);
  });

  it("is read the same way by node-llama-cpp's GGUF parser", async () => {
    const file = join(dir, 'sample-nlc.gguf');
    await writeGguf(file, sample);
    const info = await readGgufFileInfo(file, { readTensorInfo: true, logWarnings: false });
    expect(info.version).toBe(3);
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(meta.general.name).toBe('naïve ☃ model');
    expect(meta.general.alignment).toBe(32);
    expect(meta.test.strings).toEqual(['<s>', '▁Answer', '']);
    expect(meta.test.bool).toBe(true);
    expect(info.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ['a.weight', [5], NlcGgmlType.F32],
      ['b.weight', [3, 3], NlcGgmlType.F16],
      ['c.weight', [32, 2], NlcGgmlType.Q8_0],
      ['d.weight', [64, 3], NlcGgmlType.Q4_0],
    ]);
  });

  it('refuses tensor data of the wrong size and names the tensor', async () => {
    const bad: GgufFile = {
      metadata: [],
      tensors: [{ name: 'x.weight', dims: [64, 2], type: 'Q4_0', data: new Uint8Array(10) }],
    };
    await expect(writeGguf(join(dir, 'bad.gguf'), bad)).rejects.toThrow(/"x\.weight".*needs 72 bytes, got 10/);
  });

  it('refuses invalid metadata and tensor infos before writing anything', () => {
    const header = (file: Partial<GgufFile>) => () => encodeGgufHeader({ metadata: [], tensors: [], ...file });
    expect(header({ metadata: [['a.b', kv.u32(1)], ['a.b', kv.u32(2)]] })).toThrow(/appears twice/);
    expect(header({ metadata: [['has space', kv.u32(1)]] })).toThrow(/printable ASCII/);
    expect(header({ metadata: [['a.u32', kv.u32(-1)]] })).toThrow(/"a\.u32".*uint32/);
    expect(header({ metadata: [['a.list', kv.array('int32', [1, 2.5])]] })).toThrow(/"a\.list\[1\]"/);
    expect(header({ metadata: [['general.alignment', kv.u32(64)]] })).toThrow(/alignment/);
    expect(header({ tensors: [{ name: 'x'.repeat(64), dims: [1], type: 'F32', data: new Uint8Array(4) }] })).toThrow(/1\.\.63 bytes/);
    expect(header({ tensors: [{ name: 't', dims: [1, 1, 1, 1, 1], type: 'F32', data: new Uint8Array(4) }] })).toThrow(/dims/);
    expect(header({ tensors: [{ name: 't', dims: [40], type: 'Q8_0', data: new Uint8Array(0) }] })).toThrow(/multiple of 32/);
  });

  it('honours a larger alignment', async () => {
    const file = join(dir, 'align64.gguf');
    await writeGguf(file, { ...sample, alignment: 64 });
    const parsed = parseGguf(await readFile(file));
    expect(parsed.metadata.get('general.alignment')?.value).toBe(64);
    expect(parsed.dataOffset % 64).toBe(0);
    expect(parsed.tensors.every((t) => t.offset % 64 === 0)).toBe(true);
    expect(parsed.tensors[1].offset).toBe(64); // 20 bytes of a.weight padded to 64
  });
});
