// The planning step against a server that checks the context itself (vLLM): nothing is counted before the
// first request, and a prompt the server refuses (prompt + max_tokens over max_model_len, a 400 as vLLM's
// _validate_input sends it) is counted then and planned exactly as the up-front planning step plans it:
// the same capped budget, the same prompt-too-long (never scored) when the prompt alone fills the context.
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/index.js';
import { buildPromptSystem } from '../../src/prompts/index.js';
import { planItems } from '../../src/run/plan-budget.js';
import { runSuite } from '../../src/run/run.js';
import { createRunner, loadRunnerProfile } from '../../src/runners/registry.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { doubleTokens } from '../doubles/scripted-sse.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';

/** vLLM's own check: prompt + max_tokens over max_model_len is refused with its 400, and /tokenize counts alike. */
class CheckingVllm extends VllmDouble {
  readonly paths: string[] = [];
  private count(messages: Array<{ content: string }>): number {
    return doubleTokens(messages.map((m) => m.content).join('\n')).length + 8;
  }
  protected override async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.paths.push(path);
    if (method === 'POST' && path === '/tokenize') {
      const body = JSON.parse(raw) as { messages: Array<{ content: string }> };
      return this.json(res, 200, { count: this.count(body.messages), max_model_len: this.maxModelLen, tokens: [] });
    }
    if (method === 'POST' && path === '/v1/chat/completions') {
      const body = JSON.parse(raw) as { messages: Array<{ content: string }>; max_tokens: number };
      const n = this.count(body.messages);
      if (n + body.max_tokens > this.maxModelLen) {
        return this.json(res, 400, { object: 'error', type: 'BadRequestError', param: null, code: 400,
          message: `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${n + body.max_tokens} tokens ` +
            `(${n} in the messages, ${body.max_tokens} in the completion). Please reduce the length of the messages or completion.` });
      }
    }
    return super.route(method, path, raw, receivedAt, req, res);
  }
}

let server: CheckingVllm;
beforeAll(async () => {
  server = await new CheckingVllm().start();
  server.maxModelLen = 700;
  server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: B' }] });
});
afterAll(async () => server?.stop());

describe('planning on a server that checks the context itself (vLLM)', () => {
  it('counts nothing up front; a refused prompt is capped or prompt-too-long exactly as the planning step plans it', async () => {
    const dir = tempDir();
    // 12 short questions; two of about 200 words (they fit, but not with the whole budget); one of 3,000 (it never fits).
    const data = writeMedqaShaped(dir, 12, { words: 30, longAt: [5], longWords: 3000 });
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    const longer = readFileSync(writeMedqaShaped(join(dir), 12, { words: 200 }), 'utf8').trim().split('\n');
    lines[2] = longer[2]!;
    lines[7] = longer[7]!;
    writeFileSync(data, lines.join('\n') + '\n');
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: refusal', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
      'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 500', 'load:', '  profile: concurrency', '  concurrency: 3', '  warmup: 0', ''].join('\n'));
    const profileFile = join(dir, 'vllm.yaml');
    writeFileSync(profileFile, `kind: vllm\nlabel: checking\nmode: attached\nbaseUrl: ${server.baseUrl}\napi: chat\nretries: 0\n`);
    const runner = await loadRunnerProfile(profileFile);

    // What the up-front planning step makes of these prompts (a /tokenize each), as the reference.
    const dataset = await loadDataset({ format: 'medqa', path: data });
    const render = await buildPromptSystem(join(REPO, 'suites/prompts'));
    const counting = await createRunner(runner.profile);
    const reference = await planItems(counting, server.maxModelLen, dataset.items.length, (i) => render(dataset.items[i]!).prompt, 500);
    await counting.close();
    expect(reference.summary).toMatchObject({ counted: 12, capped: 2, tooLong: 1 });

    server.paths.length = 0;
    const notices: string[] = [];
    const out = await runSuite({ suite, runner, out: join(dir, 'run'), cacheDir: false, onEvent: (e) => e.type === 'notice' && notices.push(e.text) });
    // Nothing asked of /tokenize before the first request; afterwards, one count per refused prompt.
    const firstChat = server.paths.indexOf('/v1/chat/completions');
    expect(server.paths.slice(0, firstChat)).not.toContain('/tokenize');
    expect(server.paths.filter((p) => p === '/tokenize')).toHaveLength(3);
    const results = out.results;
    expect(results).toHaveLength(12);
    for (const [i, item] of dataset.items.entries()) {
      const r = results.find((x) => x.itemId === item.id)!;
      const plan = reference.plans.at(i)!;
      expect(r.budget?.maxTokens, `item ${i}`).toBe(plan.budget.maxTokens);
      if (plan.tooLong) {
        expect(r.error).toEqual({ kind: 'prompt-too-long', message: plan.tooLong });
        expect(r.correct).toBeNull();
        expect(r.extracted.status).not.toBe('answered');
      } else {
        expect(r.error, `item ${i}`).toBeUndefined();
        expect(r.correct).toBe(item.answer === 'B');
      }
      // A refused prompt was counted; the others were never asked about.
      expect(r.budget?.promptTokens ?? null).toBe(plan.budget.maxTokens < 500 ? plan.budget.promptTokens : null);
    }
    expect(out.manifest.status).toBe('incomplete');
    expect(notices.some((n) => /the server refused a prompt of \d+ tokens with a budget of 500/.test(n))).toBe(true);
  });
});
