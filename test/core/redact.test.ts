// The secret registry: what resolveApiKey registers is cut out of every text at the write boundaries,
// also in the forms a writer may have turned it into (JSON-escaped, HTML-escaped, cut in half).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseCache } from '../../src/run/response-cache.js';
import { clearSecrets, guardStream, redact, redactContent, registerSecret } from '../../src/core/redact.js';
import type { GenerateRequest, Generation } from '../../src/core/types.js';
import { registerServerSecrets, resolveApiKey } from '../../src/runners/openai-stream.js';
import { tempDir } from '../helpers/tiny-run.js';

const KEY = `sk-"quote"<${randomBytes(10).toString('hex')}>&`;

afterEach(() => clearSecrets());

describe('redact', () => {
  it("registers the keys a managed server gets in its args or its environment (the args are recorded in the manifest)", () => {
    const [a, b, c, d] = ['k1', 'k2', 'k3', 'k4'].map((p) => `${p}-${randomBytes(8).toString('hex')}`);
    expect(redact(`${a} ${b} ${c} ${d}`)).toBe(`${a} ${b} ${c} ${d}`);
    registerServerSecrets(['-c', '2048', '--api-key', a!, `--api-key=${b},${c}`], { LLAMA_API_KEY: d });
    expect(redact(`args: --api-key ${a} --api-key=${b},${c}; env ${d}; -c 2048`)).toBe('args: --api-key [redacted] --api-key=[redacted]; env [redacted]; -c 2048');
  });

  it('cuts out a registered key, its JSON- and HTML-escaped forms and either half of it', () => {
    registerSecret(KEY);
    const half = Math.ceil(KEY.length / 2);
    for (const text of [KEY, JSON.stringify(KEY), KEY.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
      `cut at 200 bytes: ${KEY.slice(0, half)}`, `${KEY.slice(-half)} (a log tail)`]) {
      const out = redact(`before ${text} after`);
      expect(out).toContain('[redacted]');
      expect(out).not.toContain(KEY.slice(4, half));
      expect(out).not.toContain(KEY.slice(half, -2));
    }
    expect(redact('nothing secret here')).toBe('nothing secret here');
  });

  it('leaves text alone until a key is registered, and ignores values too short to be secrets', () => {
    expect(redact(`x ${KEY} y`)).toBe(`x ${KEY} y`);
    registerSecret('abc');
    expect(redact('abcabc')).toBe('abcabc');
  });

  it('resolveApiKey registers the key it reads', () => {
    process.env.MEDEVAL_REDACT_TEST_KEY = KEY;
    try {
      expect(resolveApiKey('MEDEVAL_REDACT_TEST_KEY')).toBe(KEY);
      expect(redact(`Authorization: Bearer ${KEY}`)).toBe('Authorization: Bearer [redacted]');
    } finally {
      delete process.env.MEDEVAL_REDACT_TEST_KEY;
    }
  });

  it('overwrites a key inside binary content without changing its length, and copies rather than mutates', () => {
    registerSecret(KEY);
    const bytes = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(KEY), Buffer.from([255])]);
    const out = redactContent(bytes) as Buffer;
    expect(out.length).toBe(bytes.length);
    expect(out.includes(Buffer.from(KEY))).toBe(false);
    expect(bytes.includes(Buffer.from(KEY))).toBe(true);
  });

  it('a guarded stream never passes the key on, for strings and bytes alike', () => {
    registerSecret(KEY);
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const seen: string[] = [];
    (stream as unknown as PassThrough).on('data', (c: Buffer) => seen.push(c.toString('utf8')));
    guardStream(stream);
    guardStream(stream); // idempotent
    stream.write(`error: ${KEY}\n`);
    stream.write(Buffer.from(`bytes: ${KEY}\n`));
    expect(seen.join('')).not.toContain(KEY);
    expect(seen.join('')).toContain('error: [redacted]');
  });

  it('the response cache stores a generation that quotes the key without it', () => {
    registerSecret(KEY);
    const dir = tempDir('medeval-redact-cache-');
    const cache = new ResponseCache(dir, { runner: 'double', model: { runner: 'double', label: 'x', parameters: null, fileBytes: null } as never, profile: {} });
    const req = { messages: [{ role: 'user', content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 8, seed: 1 } } as unknown as GenerateRequest;
    cache.put(req, { rawText: `Answer: A, your key is ${KEY}`, reasoning: null } as unknown as Generation);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(1);
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    expect(text).toContain('your key is [redacted]');
    expect(text).not.toContain(KEY);
  });
});
