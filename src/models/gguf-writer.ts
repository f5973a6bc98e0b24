// Writes GGUF v3 files (ggml docs/gguf.md): header, typed metadata, tensor infos, then the tensor
// data, each tensor starting on an `alignment` boundary. All integers are little-endian.
// Tensor data can be supplied lazily so a large model is produced and written one tensor at a time.
import { open } from 'node:fs/promises';
import { GgmlType, type GgmlTypeName, ggmlTensorBytes } from './quantize.js';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** gguf_metadata_value_type ids. */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
export type GgufScalarType = Exclude<keyof typeof GgufValueType, 'array'>;
type ScalarValue = number | bigint | boolean | string;

export type GgufValue =
  | { type: GgufScalarType; value: ScalarValue }
  | { type: 'array'; itemType: GgufScalarType; value: ArrayLike<ScalarValue> };

/** Typed metadata values, e.g. `kv.u32(4096)`, `kv.array('string', tokens)`. */
export const kv = {
  u8: (value: number): GgufValue => ({ type: 'uint8', value }),
  i32: (value: number): GgufValue => ({ type: 'int32', value }),
  u32: (value: number): GgufValue => ({ type: 'uint32', value }),
  u64: (value: number | bigint): GgufValue => ({ type: 'uint64', value }),
  f32: (value: number): GgufValue => ({ type: 'float32', value }),
  f64: (value: number): GgufValue => ({ type: 'float64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  array: (itemType: GgufScalarType, value: ArrayLike<ScalarValue>): GgufValue => ({ type: 'array', itemType, value }),
};

export interface GgufTensor {
  /** At most 63 bytes (ggml's GGML_MAX_NAME is 64 with the terminator). */
  name: string;
  /** ggml order: dims[0] is the row length (the fastest-varying dimension). At most 4 dims. */
  dims: readonly number[];
  type: GgmlTypeName;
  /** The encoded bytes, or a function producing them when the writer reaches this tensor. */
  data: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

export interface GgufFile {
  /** Written in this order. `general.alignment` is added when missing. */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensor[];
  alignment?: number;
}

export interface GgufWriteResult {
  bytes: number;
  /** File offset where tensor data starts (tensor offsets are relative to it). */
  dataOffset: number;
  tensors: Array<{ name: string; offset: number; bytes: number }>;
}

/** Growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = Buffer.alloc(64 * 1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.buf.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.buf.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  i64(v: number | bigint): void {
    this.reserve(8);
    this.buf.writeBigInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  /** gguf_string_t: uint64 byte length, then UTF-8 bytes without a terminator. */
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function align(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function checkScalar(key: string, type: GgufScalarType, v: ScalarValue): void {
  const fail = (why: string): never => {
    throw new TypeError(`GGUF metadata "${key}": ${why} (got ${typeof v} ${String(v).slice(0, 40)})`);
  };
  if (type === 'string') {
    if (typeof v !== 'string') fail('expected a string');
    return;
  }
  if (type === 'bool') {
    if (typeof v !== 'boolean') fail('expected a boolean');
    return;
  }
  if (type === 'uint64' || type === 'int64') {
    if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) fail(`expected an integer for ${type}`);
    if (type === 'uint64' && BigInt(v as number | bigint) < 0n) fail('expected a non-negative integer');
    return;
  }
  if (typeof v !== 'number') fail(`expected a number for ${type}`);
  const n = v as number;
  const ranges: Partial<Record<GgufScalarType, [number, number]>> = {
    uint8: [0, 0xff],
    int8: [-0x80, 0x7f],
    uint16: [0, 0xffff],
    int16: [-0x8000, 0x7fff],
    uint32: [0, 0xffffffff],
    int32: [-0x80000000, 0x7fffffff],
  };
  const range = ranges[type];
  if (range && (!Number.isInteger(n) || n < range[0] || n > range[1])) fail(`expected an integer in [${range[0]}, ${range[1]}] for ${type}`);
}

function writeScalar(sink: ByteSink, type: GgufScalarType, v: ScalarValue): void {
  switch (type) {
    case 'uint8':
      return sink.u8(v as number);
    case 'int8':
      return sink.i8(v as number);
    case 'uint16':
      return sink.u16(v as number);
    case 'int16':
      return sink.i16(v as number);
    case 'uint32':
      return sink.u32(v as number);
    case 'int32':
      return sink.i32(v as number);
    case 'float32':
      return sink.f32(v as number);
    case 'float64':
      return sink.f64(v as number);
    case 'bool':
      return sink.u8(v ? 1 : 0);
    case 'string':
      return sink.str(v as string);
    case 'uint64':
      return sink.u64(v as number | bigint);
    case 'int64':
      return sink.i64(v as number | bigint);
  }
}

function validate(file: GgufFile, alignment: number): void {
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new RangeError(`GGUF alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const keys = new Set<string>();
  for (const [key, value] of file.metadata) {
    if (!key || Buffer.byteLength(key) > 65535 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new TypeError(`GGUF metadata key "${key}" must be 1..65535 printable ASCII characters without spaces`);
    }
    if (keys.has(key)) throw new TypeError(`GGUF metadata key "${key}" appears twice`);
    keys.add(key);
    if (value.type === 'array') {
      for (let i = 0; i < value.value.length; i++) checkScalar(`${key}[${i}]`, value.itemType, value.value[i]);
    } else {
      checkScalar(key, value.type, value.value);
    }
  }
  const alignmentKv = file.metadata.find(([k]) => k === 'general.alignment');
  if (alignmentKv && (alignmentKv[1].type !== 'uint32' || alignmentKv[1].value !== alignment)) {
    throw new TypeError(`GGUF metadata "general.alignment" must be a uint32 equal to the writer's alignment ${alignment}`);
  }
  const names = new Set<string>();
  for (const t of file.tensors) {
    if (!t.name || Buffer.byteLength(t.name) >= 64) throw new TypeError(`GGUF tensor name "${t.name}" must be 1..63 bytes`);
    if (names.has(t.name)) throw new TypeError(`GGUF tensor "${t.name}" appears twice`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4 || t.dims.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
      throw new RangeError(`GGUF tensor "${t.name}": dims must be 1..4 positive integers, got [${t.dims.join(', ')}]`);
    }
    if (!(t.type in GgmlType)) throw new TypeError(`GGUF tensor "${t.name}": unsupported type ${t.type}`);
  }
}

/** The header (everything before the tensor data, padding included) and the tensor layout. */
export function encodeGgufHeader(file: GgufFile): { header: Buffer; layout: GgufWriteResult['tensors'] } {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  validate(file, alignment);
  const metadata = file.metadata.some(([k]) => k === 'general.alignment')
    ? file.metadata
    : [...file.metadata, ['general.alignment', kv.u32(alignment)] as const];

  const layout: GgufWriteResult['tensors'] = [];
  let offset = 0;
  for (const t of file.tensors) {
    const bytes = ggmlTensorBytes(t.type, t.dims);
    layout.push({ name: t.name, offset, bytes });
    offset = align(offset + bytes, alignment);
  }

  const sink = new ByteSink();
  sink.u32(0x46554747); // "GGUF" read as a little-endian uint32
  sink.u32(GGUF_VERSION);
  sink.u64(file.tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) {
    sink.str(key);
    sink.u32(GgufValueType[value.type]);
    if (value.type === 'array') {
      sink.u32(GgufValueType[value.itemType]);
      sink.u64(value.value.length);
      for (let i = 0; i < value.value.length; i++) writeScalar(sink, value.itemType, value.value[i]);
    } else {
      writeScalar(sink, value.type, value.value);
    }
  }
  file.tensors.forEach((t, i) => {
    sink.str(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(GgmlType[t.type]);
    sink.u64(layout[i].offset);
  });
  sink.zeros(align(sink.length, alignment) - sink.length);
  return { header: sink.bytes(), layout };
}

/** Write `file` to `path` (overwriting it). Tensor data is requested and written one tensor at a time. */
export async function writeGguf(path: string, file: GgufFile): Promise<GgufWriteResult> {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const { header, layout } = encodeGgufHeader(file);
  const handle = await open(path, 'w');
  try {
    await handle.write(header);
    let position = header.length;
    const padding = Buffer.alloc(alignment);
    for (let i = 0; i < file.tensors.length; i++) {
      const t = file.tensors[i];
      const data = typeof t.data === 'function' ? await t.data() : t.data;
      if (data.byteLength !== layout[i].bytes) {
        throw new RangeError(
          `GGUF tensor "${t.name}" (${t.type} [${t.dims.join(', ')}]) needs ${layout[i].bytes} bytes, got ${data.byteLength}`,
        );
      }
      await handle.write(data);
      position += data.byteLength;
      const pad = align(position, alignment) - position;
      // ggml pads after every tensor, the last one included.
      if (pad > 0) {
        await handle.write(padding, 0, pad);
        position += pad;
      }
    }
    return { bytes: position, dataOffset: header.length, tensors: layout };
  } finally {
    await handle.close();
  }
}
