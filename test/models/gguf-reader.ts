// A minimal GGUF v3 reader written from the spec (ggml docs/gguf.md), independent of the writer,
// so tests check the writer's bytes against the format rather than against itself.

export interface ParsedGguf {
  version: number;
  metadata: Map<string, { type: number; itemType?: number; value: unknown }>;
  tensors: Array<{ name: string; dims: number[]; type: number; offset: number }>;
  dataOffset: number;
}

export function parseGguf(buf: Buffer): ParsedGguf {
  let p = 0;
  const u8 = () => buf.readUInt8(p++);
  const u32 = () => ((p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => ((p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const str = () => {
    const n = u64();
    p += n;
    return buf.toString('utf8', p - n, p);
  };
  const readers: Record<number, () => unknown> = {
    0: u8,
    1: () => buf.readInt8(p++),
    2: () => ((p += 2), buf.readUInt16LE(p - 2)),
    3: () => ((p += 2), buf.readInt16LE(p - 2)),
    4: u32,
    5: () => ((p += 4), buf.readInt32LE(p - 4)),
    6: () => ((p += 4), buf.readFloatLE(p - 4)),
    7: () => u8() !== 0,
    8: str,
    10: () => ((p += 8), buf.readBigUInt64LE(p - 8)),
    11: () => ((p += 8), buf.readBigInt64LE(p - 8)),
    12: () => ((p += 8), buf.readDoubleLE(p - 8)),
  };

  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
  p = 4;
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const metadata: ParsedGguf['metadata'] = new Map();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    if (type === 9) {
      const itemType = u32();
      const n = u64();
      const values: unknown[] = [];
      for (let j = 0; j < n; j++) values.push(readers[itemType]());
      metadata.set(key, { type, itemType, value: values });
    } else {
      metadata.set(key, { type, value: readers[type]() });
    }
  }
  const tensors: ParsedGguf['tensors'] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    const dims: number[] = [];
    for (let j = 0; j < nDims; j++) dims.push(u64());
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const alignment = (metadata.get('general.alignment')?.value as number | undefined) ?? 32;
  const dataOffset = Math.ceil(p / alignment) * alignment;
  return { version, metadata, tensors, dataOffset };
}
