// Parameter count and weight formats of an ONNX graph, read from its protobuf without loading the
// weights: the reader seeks past raw_data, so a 2 GB single-file model costs a few reads, not 2 GB of RSS.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const DATA_TYPE_NAMES: Record<number, string> = {
  1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 16: 'BFLOAT16', 21: 'UINT4', 22: 'INT4',
};
const DATA_TYPE_BITS: Record<number, number> = { 1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 16: 16, 21: 4, 22: 4 };

interface InitializerInfo {
  name: string;
  dataType: number;
  elements: number;
}

interface NodeInfo {
  opType: string;
  inputs: string[];
  ints: Record<string, number>;
}

/** Buffered positional reads over a file descriptor. */
class FileCursor {
  private buf = Buffer.alloc(1 << 16);
  private bufStart = 0;
  private bufLen = 0;
  pos = 0;
  constructor(private readonly fd: number) {}

  private byteAt(p: number): number {
    if (p < this.bufStart || p >= this.bufStart + this.bufLen) {
      this.bufStart = p;
      this.bufLen = readSync(this.fd, this.buf, 0, this.buf.length, p);
      if (this.bufLen === 0) throw new Error('unexpected end of ONNX file');
    }
    return this.buf[p - this.bufStart];
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.byteAt(this.pos++);
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.byteAt(this.pos + i);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) {
      const length = this.varint(); // read first: `pos += varint()` would add to the pre-varint position
      this.pos += length;
    }
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }

  /** Calls onField for each field until `end`; onField returns false to have the field skipped. */
  fields(end: number, onField: (field: number, wireType: number) => boolean): void {
    while (this.pos < end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wireType = key & 7;
      if (!onField(field, wireType)) this.skip(wireType);
    }
  }
}

function readTensor(c: FileCursor, end: number): InitializerInfo {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  c.fields(end, (field, wt) => {
    if (field === 1 && wt === 2) {
      const e = c.varint() + c.pos;
      while (c.pos < e) dims.push(c.varint());
      return true;
    }
    if (field === 1 && wt === 0) return dims.push(c.varint()), true;
    if (field === 2 && wt === 0) return (dataType = c.varint()), true;
    if (field === 8 && wt === 2) return (name = c.bytes(c.varint()).toString('utf8')), true;
    return false;
  });
  return { name, dataType, elements: dims.reduce((a, d) => a * d, 1) };
}

function readNode(c: FileCursor, end: number): NodeInfo {
  const node: NodeInfo = { opType: '', inputs: [], ints: {} };
  c.fields(end, (field, wt) => {
    if (wt !== 2) return false;
    if (field === 1) return node.inputs.push(c.bytes(c.varint()).toString('utf8')), true;
    if (field === 4) return (node.opType = c.bytes(c.varint()).toString('utf8')), true;
    if (field === 5) {
      const attrEnd = c.varint() + c.pos;
      let name = '';
      let i: number | null = null;
      c.fields(attrEnd, (f, w) => {
        if (f === 1 && w === 2) return (name = c.bytes(c.varint()).toString('utf8')), true;
        if (f === 3 && w === 0) return (i = c.varint()), true;
        return false;
      });
      if (i !== null) node.ints[name] = i;
      return true;
    }
    return false;
  });
  return node;
}

export interface OnnxWeightSummary {
  /** Logical weight count: quantised matrices count K x N, their scales and zero points are not counted. */
  parameters: number;
  /** Initializers by data type name, e.g. { FLOAT: 12, UINT8: 14 }. */
  tensorTypes: Record<string, number>;
  /** e.g. "F32", "F16", "INT8 (DequantizeLinear)", "Q4 (MatMulNBits, block 32)". */
  quantization: string;
  /** Count of each operator type in the graph, for reports. */
  opTypes: Record<string, number>;
}

export function inspectOnnxFile(file: string): OnnxWeightSummary {
  const fd = openSync(file, 'r');
  try {
    const c = new FileCursor(fd);
    const inits: InitializerInfo[] = [];
    const nodes: NodeInfo[] = [];
    const size = fstatSync(fd).size;
    c.fields(size, (field, wt) => {
      if (field !== 7 || wt !== 2) return false; // ModelProto.graph
      const graphEnd = c.varint() + c.pos;
      c.fields(graphEnd, (gf, gwt) => {
        if (gwt !== 2) return false;
        if (gf === 5) return inits.push(readTensor(c, c.varint() + c.pos)), true;
        if (gf === 1) return nodes.push(readNode(c, c.varint() + c.pos)), true;
        return false;
      });
      c.pos = size; // the graph is the only field needed: stop reading here
      return true;
    });
    return summarise(inits, nodes);
  } finally {
    closeSync(fd);
  }
}

function summarise(inits: InitializerInfo[], nodes: NodeInfo[]): OnnxWeightSummary {
  const byName = new Map(inits.map((t) => [t.name, t]));
  const logical = new Map<string, number>(); // initializer -> its logical parameter count (0: bookkeeping)
  let q4Block: number | null = null;
  let q4Bits: number | null = null;
  let dequantInts = false;
  const opTypes: Record<string, number> = {};
  for (const n of nodes) {
    opTypes[n.opType] = (opTypes[n.opType] ?? 0) + 1;
    if (n.opType === 'MatMulNBits' && byName.has(n.inputs[1])) {
      logical.set(n.inputs[1], (n.ints.K ?? 0) * (n.ints.N ?? 0));
      for (const extra of n.inputs.slice(2)) if (extra) logical.set(extra, 0);
      q4Block = n.ints.block_size ?? null;
      q4Bits = n.ints.bits ?? 4;
    }
    if (n.opType === 'DequantizeLinear' && byName.has(n.inputs[0])) {
      dequantInts = true;
      for (const extra of n.inputs.slice(1)) if (extra) logical.set(extra, 0);
    }
  }
  const tensorTypes: Record<string, number> = {};
  const bytesByType: Record<string, number> = {};
  let parameters = 0;
  for (const t of inits) {
    const type = DATA_TYPE_NAMES[t.dataType] ?? `TYPE${t.dataType}`;
    tensorTypes[type] = (tensorTypes[type] ?? 0) + 1;
    bytesByType[type] = (bytesByType[type] ?? 0) + (t.elements * (DATA_TYPE_BITS[t.dataType] ?? 8)) / 8;
    // Small integer constants (shapes, axes) are not weights.
    if (t.dataType === 7 || t.elements < 2) continue;
    parameters += logical.get(t.name) ?? t.elements;
  }
  const dominant = Object.entries(bytesByType).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  // Quantised matrix ops name the format even where float embeddings hold more bytes than the matrices.
  const intType = (tensorTypes.INT8 ?? 0) >= (tensorTypes.UINT8 ?? 0) ? 'INT8' : 'UINT8';
  let quantization = ({ FLOAT: 'F32', FLOAT16: 'F16', BFLOAT16: 'BF16' } as Record<string, string>)[dominant] ?? dominant;
  if (q4Bits !== null) quantization = `Q${q4Bits} (MatMulNBits, block ${q4Block})`;
  else if (opTypes.MatMulInteger) quantization = `${intType} (MatMulInteger)`;
  else if (dequantInts) quantization = `${intType} (DequantizeLinear)`;
  return { parameters, tensorTypes, quantization, opTypes };
}
