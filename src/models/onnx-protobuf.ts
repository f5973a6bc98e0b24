// A minimal writer for the ONNX protobuf messages a small decoder model needs (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto), so test models are made in TypeScript without
// Python or an onnx package. Field numbers follow onnx/onnx.proto; only the fields used here are written.

/** Protobuf wire format: varints, fixed32 and length-delimited fields, appended to a growing buffer. */
class ProtoWriter {
  private parts: Buffer[] = [];

  private tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  private varint(value: bigint): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes), as protobuf does.
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.parts.push(Buffer.from(bytes));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(value.byteLength));
    this.parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, inner: Uint8Array): this {
    return this.bytes(field, inner);
  }

  /** Packed repeated int64 (proto3 default for repeated scalars). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const w = new ProtoWriter();
    for (const v of values) w.varint(BigInt(v));
    return this.bytes(field, w.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** onnx.TensorProto.DataType values used by the model maker and the runner. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type OnnxDataTypeId = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export interface TensorInit {
  name: string;
  dataType: OnnxDataTypeId;
  dims: readonly number[];
  /** Little-endian element bytes. */
  raw: Uint8Array;
  /** Store the bytes in an external data file instead of inside the model (see encodeModel). */
  external?: boolean;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorInit };

export interface NodeInit {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttrValue>;
}

export interface ValueInfoInit {
  name: string;
  elemType: OnnxDataTypeId;
  /** A number for a fixed size, a string for a symbolic one ("batch_size"). */
  shape: readonly (number | string)[];
}

export interface GraphInit {
  name: string;
  nodes: NodeInit[];
  initializers: TensorInit[];
  inputs: ValueInfoInit[];
  outputs: ValueInfoInit[];
}

export interface ModelInit {
  graph: GraphInit;
  /** Opsets by domain ('' is the default ONNX domain). */
  opsets: Record<string, number>;
  irVersion: number;
  producer: string;
  /** File name (relative to the model) that receives tensors marked `external`. */
  externalDataFile?: string;
}

// onnx.AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_TENSOR = 4;
const ATTR_INTS = 7;
const DATA_LOCATION_EXTERNAL = 1;

function encodeTensor(t: TensorInit, external?: { location: string; offset: number }): Buffer {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
  if (external) {
    const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value).finish();
    w.message(13, entry('location', external.location));
    w.message(13, entry('offset', String(external.offset)));
    w.message(13, entry('length', String(t.raw.byteLength)));
    w.int(14, DATA_LOCATION_EXTERNAL);
  } else {
    w.bytes(9, t.raw);
  }
  return w.finish();
}

function encodeAttribute(name: string, a: AttrValue): Buffer {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'int':
      return w.int(3, a.value).int(20, ATTR_INT).finish();
    case 'float':
      return w.float(2, a.value).int(20, ATTR_FLOAT).finish();
    case 'ints':
      return w.packedInts(8, a.value).int(20, ATTR_INTS).finish();
    case 'tensor':
      return w.message(5, encodeTensor(a.value)).int(20, ATTR_TENSOR).finish();
  }
}

function encodeNode(n: NodeInit, index: number): Buffer {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.opType}_${index}`).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

function encodeValueInfo(v: ValueInfoInit): Buffer {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d);
    shape.message(1, dim.finish());
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

/**
 * Serialises a model. Tensors marked `external` go, 16-byte aligned, into the returned `externalData`
 * buffer, which the caller writes next to the model under `externalDataFile`.
 */
export function encodeModel(m: ModelInit): { model: Buffer; externalData: Buffer | null } {
  const external: Buffer[] = [];
  let offset = 0;
  const g = new ProtoWriter();
  m.graph.nodes.forEach((n, i) => g.message(1, encodeNode(n, i)));
  g.string(2, m.graph.name);
  for (const t of m.graph.initializers) {
    if (t.external && m.externalDataFile) {
      const pad = (16 - (offset % 16)) % 16;
      if (pad) external.push(Buffer.alloc(pad));
      offset += pad;
      g.message(5, encodeTensor(t, { location: m.externalDataFile, offset }));
      external.push(Buffer.from(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength));
      offset += t.raw.byteLength;
    } else {
      g.message(5, encodeTensor(t));
    }
  }
  for (const v of m.graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of m.graph.outputs) g.message(12, encodeValueInfo(v));

  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producer);
  w.message(7, g.finish());
  for (const [domain, version] of Object.entries(m.opsets)) {
    const op = new ProtoWriter();
    if (domain) op.string(1, domain);
    w.message(8, op.int(2, version).finish());
  }
  return { model: w.finish(), externalData: external.length ? Buffer.concat(external) : null };
}
