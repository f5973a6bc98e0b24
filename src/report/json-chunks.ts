// JSON.stringify's text in pieces, for report files too large to hold as one string (report.json and the
// model inside report.html at 100,000 items are tens of MB, twice that when a text is not Latin-1). The
// pieces joined are JSON.stringify(value, replacer, indent) to the byte: objects and arrays near the top
// are written here the way JSON.stringify writes them, and everything below (each element of a long array,
// each value past MAX_DEPTH) by JSON.stringify itself, re-indented for its depth. A piece never splits a
// string value, so a secret is always whole inside one piece (the writer redacts piece by piece).

/** A replacer that looks at the value only (not its key or holder), as the report's writers use. */
export type ValueReplacer = (key: string, value: unknown) => unknown;

/** Arrays longer than this are written element by element, each element by JSON.stringify. */
const LONG_ARRAY = 64;
/** Objects and short arrays this deep or deeper go to JSON.stringify whole. */
const MAX_DEPTH = 4;
/** Pieces are gathered up to about this many characters before they are handed on. */
const PIECE_CHARS = 1 << 15;

export interface JsonChunkOptions {
  replacer?: ValueReplacer;
  /** Spaces per level, as JSON.stringify's third argument (0: compact). */
  indent?: number;
}

/**
 * JSON.stringify(value, replacer, indent) as a sequence of strings whose concatenation is that text. The
 * replacer must give the same for a value whatever its key, and leave its own output as it is (the
 * report's maps non-finite numbers to null): JSON.stringify applies it again to each value handed to it.
 */
export function* jsonChunks(value: unknown, o: JsonChunkOptions = {}): Generator<string> {
  const indent = o.indent ?? 0;
  const replacer = o.replacer as ((this: unknown, key: string, value: unknown) => unknown) | undefined;
  let buf: string[] = [];
  let size = 0;
  const out = function* (s: string) {
    buf.push(s);
    size += s.length;
    if (size >= PIECE_CHARS) {
      yield buf.join('');
      buf = [];
      size = 0;
    }
  };
  const pad = (depth: number) => (indent ? '\n' + ' '.repeat(indent * depth) : '');
  /** The text JSON.stringify writes for a value already resolved, at this depth; undefined: none. */
  const text = (x: unknown, depth: number): string | undefined => {
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') return undefined;
    const s = JSON.stringify(x, replacer, indent || undefined) as string | undefined;
    return s !== undefined && indent && depth > 0 && s.includes('\n') ? s.replace(/\n/g, pad(depth)) : s;
  };
  /** The value JSON.stringify writes for this key: toJSON first, then the replacer. */
  const resolved = (key: string, v: unknown): unknown => {
    let x = v;
    if (x !== null && typeof x === 'object' && typeof (x as { toJSON?: unknown }).toJSON === 'function') x = (x as { toJSON: (k: string) => unknown }).toJSON(key);
    return replacer ? replacer.call(undefined, key, x) : x;
  };
  const write = function* (v: unknown[] | Record<string, unknown>, depth: number): Generator<string> {
    if (Array.isArray(v)) {
      if (v.length === 0) return yield* out('[]');
      // A long array's elements go to JSON.stringify one by one; a short one's are opened further.
      const long = v.length > LONG_ARRAY;
      for (let i = 0; i < v.length; i++) {
        yield* out((i === 0 ? '[' : ',') + pad(depth + 1));
        const x = resolved(String(i), v[i]);
        if (!long && depth + 1 < MAX_DEPTH && isOpenable(x)) yield* write(x, depth + 1);
        else yield* out(text(x, depth + 1) ?? 'null');
      }
      return yield* out(pad(depth) + ']');
    }
    let first = true;
    for (const key of Object.keys(v)) {
      const x = resolved(key, v[key]);
      const open = depth + 1 < MAX_DEPTH && isOpenable(x);
      const s = open ? '' : text(x, depth + 1);
      if (!open && s === undefined) continue;
      yield* out(`${first ? '{' : ','}${pad(depth + 1)}${JSON.stringify(key)}:${indent ? ' ' : ''}${s ?? ''}`);
      first = false;
      if (open) yield* write(x, depth + 1);
    }
    yield* out(first ? '{}' : pad(depth) + '}');
  };
  const root = resolved('', value);
  if (isOpenable(root)) yield* write(root, 0);
  else {
    const s = text(root, 0);
    if (s !== undefined) yield* out(s);
  }
  if (buf.length) yield buf.join('');
}

function isOpenable(v: unknown): v is unknown[] | Record<string, unknown> {
  if (Array.isArray(v)) return true;
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}
