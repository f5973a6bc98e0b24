// The /metrics names the report's server view reads, per server kind: plain constants in a leaf module, so
// the report (and the gate, through it) reads them without loading the runners (the openai SDK, the
// engines). Each kind's definition (llama-server.ts, vllm.ts) points at its own entry here; the registry's
// SERVER_METRICS, made from the definitions, is the same list (test/runners/registry.test.ts holds that).
import type { ServerMetricNames } from './definition.js';
import { LATENCY_TABLE } from '../metrics/table.js';

/** What the report's server view reads from llama-server's /metrics differences over a run. */
export const LLAMA_SERVER_METRICS: ServerMetricNames = {
  // llama.cpp's *_seconds_total add up each request's own time, so tokens over them is a per-request
  // speed (its /metrics gauges of "average throughput" are the same per-request figure), not throughput.
  speeds: [
    { tokens: 'llamacpp:prompt_tokens_total', seconds: 'llamacpp:prompt_seconds_total', figure: 'promptSpeed' },
    { tokens: 'llamacpp:tokens_predicted_total', seconds: 'llamacpp:tokens_predicted_seconds_total', figure: 'generationSpeed' },
  ],
  throughputs: [
    { tokens: 'llamacpp:prompt_tokens_total', figure: 'promptThroughput' },
    { tokens: 'llamacpp:tokens_predicted_total', figure: 'generationThroughput' },
  ],
  counts: [
    { name: 'llamacpp:prompt_tokens_total', label: 'prompt tokens' },
    { name: 'llamacpp:tokens_predicted_total', label: 'generated tokens' },
  ],
};

/** What the report's server view reads from vLLM's /metrics differences over a run. */
export const VLLM_SERVER_METRICS: ServerMetricNames = {
  throughputs: [
    { tokens: 'vllm:prompt_tokens_total', figure: 'promptThroughput' },
    { tokens: 'vllm:generation_tokens_total', figure: 'generationThroughput' },
  ],
  counts: [
    { name: 'vllm:prompt_tokens_total', label: 'prompt tokens' },
    { name: 'vllm:generation_tokens_total', label: 'generated tokens' },
    { name: 'vllm:request_success_total', label: 'requests finished' },
    { name: 'vllm:num_preemptions_total', label: 'preemptions' },
  ],
  // Histograms over the run as means in ms (current name first, deprecated after).
  histograms: [
    { names: ['vllm:time_to_first_token_seconds'], label: `${LATENCY_TABLE.ttftMs.short}, mean` },
    { names: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'], label: `${LATENCY_TABLE.itlMs.short}, mean` },
    { names: ['vllm:request_time_per_output_token_seconds'], label: `${LATENCY_TABLE.tpotMs.short} per request, mean` },
    { names: ['vllm:e2e_request_latency_seconds'], label: `${LATENCY_TABLE.e2eMs.long}, mean` },
    { names: ['vllm:request_queue_time_seconds'], label: 'time waiting in the queue, mean' },
    { names: ['vllm:request_prefill_time_seconds'], label: 'prefill, mean' },
    { names: ['vllm:request_decode_time_seconds'], label: 'decode, mean' },
  ],
};

/** Every server kind's names, in the registry's order of kinds. */
export const SERVER_METRIC_NAMES: readonly ServerMetricNames[] = [LLAMA_SERVER_METRICS, VLLM_SERVER_METRICS];
