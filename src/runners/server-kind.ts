// Which kind of server answers at a base URL, for `--base-url` without `--kind`: llama.cpp's llama-server
// answers GET /props (its own endpoint: model_path, default_generation_settings); vLLM has no /props and
// lists its models under /v1/models with `owned_by: "vllm"` (llama-server's say "llamacpp"). Neither
// answering is bad input: the message says what each endpoint gave and to pass --kind.
import { InputError } from '../core/errors.js';
import { redact } from '../core/redact.js';

export type DetectedKind = 'llama-server' | 'vllm';

export interface DetectedServer {
  kind: DetectedKind;
  /** The served model's name (vLLM's id, llama-server's model file), for a label. */
  modelId: string | null;
  /** What decided it, for the terminal. */
  evidence: string;
}

async function getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ ok: true; body: unknown } | { ok: false; why: string }> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { ok: false, why: `HTTP ${res.status}` };
    try {
      return { ok: true, body: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, why: 'HTTP 200 but not JSON' };
    }
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { ok: false, why: err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : err.cause?.code ?? err.message };
  }
}

const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

export async function detectServerKind(baseUrl: string, o: { apiKey?: string | null; timeoutMs?: number } = {}): Promise<DetectedServer> {
  const base = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};
  const timeoutMs = o.timeoutMs ?? 30_000;
  const [props, models] = await Promise.all([getJson(`${base}/props`, headers, timeoutMs), getJson(`${base}/v1/models`, headers, timeoutMs)]);
  const first = models.ok ? record((record(models.body)?.data as unknown[] | undefined)?.[0]) : null;
  const modelId = typeof first?.id === 'string' ? first.id : null;
  const p = props.ok ? record(props.body) : null;
  if (p && ('default_generation_settings' in p || 'model_path' in p)) {
    return { kind: 'llama-server', modelId: typeof p.model_path === 'string' ? p.model_path : modelId, evidence: 'GET /props answered (llama-server)' };
  }
  if (first?.owned_by === 'vllm') return { kind: 'vllm', modelId, evidence: 'GET /v1/models: owned_by "vllm"' };
  if (first?.owned_by === 'llamacpp') return { kind: 'llama-server', modelId, evidence: 'GET /v1/models: owned_by "llamacpp"' };
  const said = (r: typeof props) => (r.ok ? 'answered, but not as llama-server or vLLM do' : r.why);
  throw new InputError(redact(`cannot tell which server runs at ${base}: /props ${said(props)}; /v1/models ${said(models)}`), { field: '--base-url' },
    'check that the server is up at that address (no /v1 at the end), or pass --kind llama-server or --kind vllm');
}
