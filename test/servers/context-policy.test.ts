// Context policy of the server runners (issue 10 items 3 and 6) against the llama-server double, which
// shifts the context past the slot as the real server does by default, truncates a prompt longer than the
// slot silently, and with contextShift false (--no-context-shift) refuses it with the in-stream error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, llamaServerProfileSchema, type LlamaServerRunner } from '../../src/runners/llama-server.js';
import { doubleSpecialTokens, doubleTemplate, LlamaServerDouble } from '../doubles/llama-server-double.js';
import { tempDir } from '../helpers/tiny-run.js';

const noGpu = { nvidiaSmi: new NvidiaSmi(null) };
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const user = (content: string) => [{ role: 'user' as const, content }];
const sampling = (maxTokens: number) => ({ temperature: 0, topP: 1, maxTokens });
const chatRequests = (s: LlamaServerDouble) => s.requests.filter((r) => r.path === '/v1/chat/completions').length;

describe('llama-server context policy (attached)', () => {
  let server: LlamaServerDouble;
  let runner: LlamaServerRunner;
  const attach = async (extra: Record<string, unknown> = {}) => {
    runner = await createLlamaServerRunner(
      llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'ctx', baseUrl: server.baseUrl, retries: 0, ...extra }), noGpu);
  };
  beforeEach(async () => {
    server = await new LlamaServerDouble().start();
  });
  afterEach(async () => {
    await runner?.close();
    await server.stop();
  });

  it('counts a prompt as the chat endpoint sees it (template + special tokens) and caps the budget to the slot', async () => {
    await attach();
    const messages = user(words(100));
    const n = await runner.countPromptTokens(messages);
    expect(n).toBe(doubleSpecialTokens(doubleTemplate(messages), true));
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: A' }], finishReason: 'stop' });
    const g = await runner.generate({ messages, sampling: sampling(32768), promptTokens: n });
    // The server's own count agrees with the planned one, and max_tokens was cut to what the slot holds.
    expect(g.promptTokens).toBe(n);
    expect(server.records[0]!.body.max_tokens).toBe(512 - n! - 1);
    expect(server.contextShifts).toBe(0);
    // Planned: the runner sent no side request of its own on the measured path.
    expect(server.requests.filter((r) => r.path === '/tokenize' || r.path === '/apply-template')).toHaveLength(2);
  });

  it('refuses a prompt that alone fills the slot before sending it (prompt-too-long, not retried)', async () => {
    await attach();
    const err = await runner.generate({ messages: user(words(600)), sampling: sampling(16) }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'prompt-too-long' });
    expect((err as Error).message).toMatch(/slot of this llama-server holds 512 .*raise -c/);
    expect(chatRequests(server)).toBe(0);
  });

  it('an attached server that shifted the context: the item is an error (context-shift), not an answer', async () => {
    await attach({ truncationCheck: false }); // nothing counted: only the after-the-fact check is left
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: B' }], completionTokens: 500, finishReason: 'length' });
    const err = await runner.generate({ messages: user(words(100)), sampling: sampling(1000) }).catch((e: Error) => e);
    expect(server.contextShifts).toBe(1);
    expect(err).toMatchObject({ kind: 'context-shift' });
    expect((err as Error).message).toMatch(/reached the slot context of 512: llama-server shifted the context/);
    expect(runner.truncation.flagged).toBe(1);
  });

  it('an older server without /apply-template: a prompt it cut to fit is flagged from usage.prompt_tokens (prompt-truncated)', async () => {
    server.applyTemplate = false;
    await attach();
    // 508 tokens of text: the lower bound fits, the templated prompt (+6) does not; the server truncates it.
    const messages = user(words(508));
    expect(await runner.countPromptTokens(messages)).toBe(508);
    const err = await runner.generate({ messages, sampling: sampling(2), promptTokens: 508 }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'prompt-truncated' });
    expect((err as Error).message).toMatch(/cut the prompt to 457 of its 508\+ tokens/);
  });

  it('with --no-context-shift the server refuses a prompt past its slot in the stream: kept as prompt-too-long', async () => {
    server.contextShift = false;
    await attach();
    // Planned but not countable (null): the request goes out and the server itself refuses it.
    const err = await runner.generate({ messages: user(words(600)), sampling: sampling(16), promptTokens: null }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'prompt-too-long' });
    expect((err as Error).message).toMatch(/exceeds the available context size/);
    expect(chatRequests(server)).toBe(1);
  });

  it('with --no-context-shift a generation that reaches the slot\'s end gets "context shift is disabled" (as a real build does): context-full, not retried, not scored', async () => {
    server.contextShift = false;
    await attach({ truncationCheck: false, retries: 3 });
    server.script = () => ({ chunks: Array.from({ length: 600 }, () => ({ delayMs: 0, content: ' w' })), finishReason: 'length' });
    const err = await runner.generate({ messages: user(words(100)), sampling: sampling(1000) }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'context-full', retries: 0 });
    expect((err as Error).message).toMatch(/^the server reported an error in the stream \(code 500, server_error\): context shift is disabled: .*end of the slot of 512 tokens/);
    expect(chatRequests(server)).toBe(1);
  });
});

describe('managed llama-server', () => {
  it('is started with --no-context-shift, unless the profile asks for --context-shift', async () => {
    const fake = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
    const model = join(tempDir('medeval-noshift-'), 'm.gguf');
    writeFileSync(model, Buffer.alloc(4096, 1));
    const argvOf = async (args: string[]) => {
      const r = await createLlamaServerRunner(llamaServerProfileSchema.parse({
        kind: 'llama-server', label: 'm', mode: 'managed', binary: fake, model, args: ['-c', '2048', '-np', '1', ...args], startupTimeoutMs: 120_000,
      }), noGpu);
      try {
        return readFileSync(`/proc/${r.serverPid}/cmdline`, 'utf8').split('\0');
      } finally {
        await r.close();
      }
    };
    const plain = await argvOf([]);
    expect(plain).toContain('--no-context-shift');
    const optedIn = await argvOf(['--context-shift']);
    expect(optedIn).not.toContain('--no-context-shift');
    expect(optedIn).toContain('--context-shift');
  });
});
