// Protocol double of vLLM's OpenAI-compatible server: a role chunk first ({"role":"assistant","content":""}),
// reasoning from the deepseek_r1 parser in delta.reasoning_content (or delta.reasoning, newer), content
// chunks, a finish chunk, a separate usage chunk with "choices": [], then "data: [DONE]"; /v1/models with
// max_model_len; /metrics with current or deprecated metric names; errors as {"object":"error",...}.
// With a logprob model plugged in (the same interface as the llama-server double's): /tokenize (prompt, or
// messages through the model's chat template, add_generation_prompt / continue_final_message),
// /detokenize, and /v1/completions with echo and logprobs scoring the prompt's own tokens (token_logprobs
// starts with null: nothing predicts the first token), as vLLM's OpenAI server answers them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DoubleLogprobModel } from './llama-server-double.js';
import { doubleTokens, ScriptedSseServer, type SendRecord } from './scripted-sse.js';

export class VllmDouble extends ScriptedSseServer {
  modelId = 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B';
  maxModelLen = 32768;
  /** 'reasoning_content' (vLLM <= 0.10) or 'reasoning' (newer). */
  reasoningField: 'reasoning_content' | 'reasoning' = 'reasoning_content';
  /** Serve the deprecated metric names (vllm:gpu_cache_usage_perc, time_per_output_token). */
  deprecatedMetrics = false;
  /**
   * A frozen (SIGSTOPped) server: connections are still accepted (the kernel does that) but no request,
   * /health included, is ever answered.
   */
  frozen = false;
  private seq = 0;
  private generated = 0;
  /** Serves /tokenize, /detokenize and echo log-probabilities from this model (null: none of them). */
  logprobModel: DoubleLogprobModel | null = null;
  /** Bodies of the /v1/completions requests with echo, in arrival order. */
  readonly echoBodies: Array<Record<string, unknown>> = [];

  protected async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.frozen) return;
    if (path === '/health') {
      res.writeHead(200);
      return void res.end();
    }
    if (path === '/v1/models') {
      return this.json(res, 200, {
        object: 'list',
        data: [{ id: this.modelId, object: 'model', created: 1795534944, owned_by: 'vllm', root: this.modelId, parent: null, max_model_len: this.maxModelLen, permission: [] }],
      });
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(this.metricsText());
    }
    if (this.logprobModel && method === 'POST' && (path === '/tokenize' || path === '/detokenize')) return this.tokenizeRoute(path, raw, res);
    if (this.logprobModel && method === 'POST' && path === '/v1/completions' && /"echo"\s*:\s*true/.test(raw)) return this.echo(raw, res);
    if ((path === '/v1/chat/completions' || path === '/v1/completions') && method === 'POST') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return this.json(res, 400, { object: 'error', message: 'Expecting property name enclosed in double quotes', type: 'BadRequestError', param: null, code: 400 });
      }
      const failure = this.playFailure(res, body, path);
      if (failure === true) return;
      const chat = path === '/v1/chat/completions';
      const text = chat ? (body.messages as Array<{ content: string }>).map((m) => m.content).join('\n') : String(body.prompt ?? '');
      const promptTokens = doubleTokens(text).length + (chat ? 8 : 1);
      if (promptTokens > this.maxModelLen) {
        return this.json(res, 400, { object: 'error', message: `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${promptTokens} tokens in the messages.`, type: 'BadRequestError', param: null, code: 400 });
      }
      const script = this.script(body);
      const finish = script.finishReason ?? 'stop';
      // Like vLLM: the EOS token is counted in completion_tokens; its chunk carries no text.
      const completion = script.completionTokens ?? script.chunks.length + (finish === 'stop' ? 1 : 0);
      this.generated += completion;
      const id = `chatcmpl-${++this.seq}`;
      const meta = { id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: 1795534944, model: this.modelId };
      const rec: SendRecord = { path, body, headers: req.headers, receivedAt, textSentAt: [], kinds: [] };
      await this.playStream(res, rec, script, {
        head: () => (chat ? [{ ...meta, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }] : []),
        chunk: (kind, t) => chat
          ? { ...meta, choices: [{ index: 0, delta: kind === 'reasoning' ? { [this.reasoningField]: t } : { content: t }, logprobs: null, finish_reason: null }] }
          : { ...meta, choices: [{ index: 0, text: t, logprobs: null, finish_reason: null, stop_reason: null }] },
        final: () => [
          chat
            ? { ...meta, choices: [{ index: 0, delta: { content: '' }, logprobs: null, finish_reason: finish, stop_reason: null }] }
            : { ...meta, choices: [{ index: 0, text: '', logprobs: null, finish_reason: finish, stop_reason: null }] },
          { ...meta, choices: [], usage: { prompt_tokens: promptTokens, total_tokens: promptTokens + completion, completion_tokens: completion } },
        ],
      }, typeof failure === 'object' ? failure : undefined);
      return;
    }
    this.json(res, 404, { detail: 'Not Found' });
  }

  private tokenizeRoute(path: string, raw: string, res: ServerResponse): void {
    const m = this.logprobModel!;
    const body = JSON.parse(raw) as Record<string, unknown>;
    if (path === '/detokenize') return this.json(res, 200, { prompt: m.detokenize(body.tokens as number[]) });
    let text: string;
    let addSpecial: boolean;
    if (Array.isArray(body.messages)) {
      const messages = body.messages as Array<{ role: string; content: string }>;
      if (body.continue_final_message === true) {
        // The template up to the final (assistant) message, which is left open on its content.
        const last = messages[messages.length - 1]!;
        text = m.template(messages.slice(0, -1)) + last.content;
      } else {
        text = m.template(messages);
      }
      addSpecial = body.add_special_tokens === true; // vLLM's default for chat: false (the template holds BOS)
    } else {
      text = String(body.prompt ?? '');
      addSpecial = body.add_special_tokens !== false;
    }
    const tokens = m.tokenize(text, addSpecial);
    this.json(res, 200, { count: tokens.length, max_model_len: this.maxModelLen, tokens, token_strs: null });
  }

  /** /v1/completions with echo: the prompt's tokens with their log-probabilities, then the generated token's. */
  private async echo(raw: string, res: ServerResponse): Promise<void> {
    const m = this.logprobModel!;
    const body = JSON.parse(raw) as Record<string, unknown>;
    this.echoBodies.push(body);
    const ids = Array.isArray(body.prompt) ? (body.prompt as number[]) : m.tokenize(String(body.prompt ?? ''), true);
    const tokenLogprobs: Array<number | null> = [null];
    const top: Array<Record<string, number> | null> = [null];
    for (let i = 1; i <= ids.length; i++) {
      const dist = (await m.nextLogprobs(ids.slice(0, i))).sort((a, b) => b.logprob - a.logprob);
      if (i < ids.length) {
        const lp = dist.find((d) => d.id === ids[i])!.logprob;
        tokenLogprobs.push(lp);
        top.push({ [m.piece(ids[i]!)]: lp, [m.piece(dist[0]!.id)]: dist[0]!.logprob });
      } else {
        ids.push(dist[0]!.id); // the one generated token (greedy)
        tokenLogprobs.push(dist[0]!.logprob);
        top.push({ [m.piece(dist[0]!.id)]: dist[0]!.logprob });
        break;
      }
    }
    const tokens = ids.map((id) => m.piece(id));
    const offsets: number[] = [];
    let at = 0;
    for (const t of tokens) {
      offsets.push(at);
      at += t.length;
    }
    this.json(res, 200, {
      id: `cmpl-${++this.seq}`, object: 'text_completion', created: 1795534944, model: this.modelId,
      choices: [{ index: 0, text: tokens.join(''), logprobs: { text_offset: offsets, token_logprobs: tokenLogprobs, tokens, top_logprobs: top }, finish_reason: 'length', stop_reason: null, prompt_logprobs: null }],
      usage: { prompt_tokens: ids.length - 1, total_tokens: ids.length, completion_tokens: 1 },
    });
  }

  private metricsText(): string {
    const m = `model_name="${this.modelId}"`;
    const kv = this.deprecatedMetrics ? 'vllm:gpu_cache_usage_perc' : 'vllm:kv_cache_usage_perc';
    const itl = this.deprecatedMetrics ? 'vllm:time_per_output_token_seconds' : 'vllm:inter_token_latency_seconds';
    return [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      `vllm:num_requests_running{engine="0",${m}} 0.0`,
      '# TYPE vllm:num_requests_waiting gauge',
      `vllm:num_requests_waiting{engine="0",${m}} 0.0`,
      `# TYPE ${kv} gauge`,
      `${kv}{engine="0",${m}} 0.0123`,
      '# TYPE vllm:generation_tokens_total counter',
      `vllm:generation_tokens_total{engine="0",${m}} ${this.generated}.0`,
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total{engine="0",${m}} ${this.seq * 20}.0`,
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{engine="0",finished_reason="stop",${m}} ${this.seq}.0`,
      `vllm:request_success_total{engine="0",finished_reason="length",${m}} 0.0`,
      '# TYPE vllm:time_to_first_token_seconds histogram',
      `vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",${m}} 0.0`,
      `vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",${m}} ${this.seq}.0`,
      `vllm:time_to_first_token_seconds_count{engine="0",${m}} ${this.seq}.0`,
      `vllm:time_to_first_token_seconds_sum{engine="0",${m}} ${(this.seq * 0.01).toFixed(3)}`,
      `# TYPE ${itl} histogram`,
      `${itl}_count{engine="0",${m}} ${this.generated}.0`,
      `${itl}_sum{engine="0",${m}} ${(this.generated * 0.002).toFixed(3)}`,
      '',
    ].join('\n');
  }
}
