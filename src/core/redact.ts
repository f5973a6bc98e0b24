// The one place secrets are cut out of everything medeval stores or prints. resolveApiKey registers each
// key it reads; every write boundary (run folder, response cache, reports, gate outputs, the CLI's
// stdout/stderr) passes its text through `redact`, so a new error path cannot forget to.
import { appendFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export const REDACTED = '[redacted]';

/** Shorter values are not treated as secrets: cutting every "abc" out of the data would corrupt it. */
const MIN_SECRET = 4;
/** A cut-off key (a message truncated to N bytes) still leaks: its first or last half is redacted too. */
const MIN_FRAGMENT = 8;

let patterns: string[] = [];

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Remember a secret for the rest of the process (idempotent). */
export function registerSecret(secret: string | null | undefined): void {
  if (!secret || secret.length < MIN_SECRET) return;
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), htmlEscape(secret)]);
  if (secret.length >= 2 * MIN_FRAGMENT) {
    const half = Math.ceil(secret.length / 2);
    forms.add(secret.slice(0, half));
    forms.add(secret.slice(-half));
  }
  // Longest first, so the whole key is replaced before its fragments are looked for.
  patterns = [...new Set([...patterns, ...forms])].sort((a, b) => b.length - a.length);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  patterns = [];
}

export function redact(text: string): string {
  let out = text;
  for (const p of patterns) if (out.includes(p)) out = out.split(p).join(REDACTED);
  return out;
}

/** Bytes: text formats (SVG, JSON) are redacted as text; binary data has a secret overwritten in place. */
export function redactContent(content: string | Uint8Array): string | Uint8Array {
  if (typeof content === 'string') return redact(content);
  if (patterns.length === 0) return content;
  let buf: Buffer | null = null;
  for (const p of patterns) {
    const needle = Buffer.from(p, 'utf8');
    const src: Buffer = buf ?? Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    let at = src.indexOf(needle);
    if (at < 0) continue;
    buf ??= Buffer.from(src); // a copy: the caller's buffer stays as it was
    for (; at >= 0; at = buf.indexOf(needle, at + needle.length)) buf.fill('*', at, at + needle.length);
  }
  return buf ?? content;
}

/** writeFileSync, redacted. */
export function writeRedacted(file: string, content: string | Uint8Array): void {
  writeFileSync(file, redactContent(content));
}

export async function writeRedactedAsync(file: string, content: string | Uint8Array): Promise<void> {
  await writeFile(file, redactContent(content));
}

export function appendRedacted(file: string, text: string): void {
  appendFileSync(file, redact(text));
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * Route every write to `stream` (process.stdout / process.stderr) through `redact`: the CLI's own lines,
 * a library's warnings and progress bars alike. Idempotent.
 */
export function guardStream(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    let c = chunk;
    if (patterns.length > 0) {
      if (typeof chunk === 'string') c = redact(chunk);
      else if (chunk instanceof Uint8Array) c = redactContent(chunk);
    }
    return write(c, ...rest);
  }) as NodeJS.WriteStream['write'];
}
