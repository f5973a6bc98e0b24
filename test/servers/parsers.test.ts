// Parsers on recorded/real-format text: nvidia-smi CSV, Prometheus /metrics, llama-server and vLLM
// start-up logs, /proc status and stat lines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcStatus, parseStatPpid, processTree, ProcessTreeSampler, treeMemory } from '../../src/metrics/memory-probe.js';
import { gpuBytesForPids, NvidiaSmi, parseComputeApps, parseGpuMemory } from '../../src/metrics/nvidia-smi.js';
import { counterDelta, metricSum, parsePrometheusText } from '../../src/metrics/prometheus.js';
import { emptyStartupMemory, guessQuant, parseLlamaServerLogLine, residentWeightsFigureOf } from '../../src/runners/llama-server.js';
import { emptyVllmStartup, parseVllmLogLine } from '../../src/runners/vllm.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/servers/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

describe('nvidia-smi', () => {
  it('reads per-process memory and sums a process tree', () => {
    const apps = parseComputeApps(fx('nvidia-smi-apps-normal.txt'));
    expect(apps).toEqual([
      { pid: 12345, processName: '/usr/bin/python3', usedBytes: 15872 * MIB },
      { pid: 12399, processName: 'VLLM::EngineCore', usedBytes: 20480 * MIB },
    ]);
    expect(gpuBytesForPids(apps, new Set([12345, 12399])).bytes).toBe((15872 + 20480) * MIB);
    expect(gpuBytesForPids(apps, new Set([1])).bytes).toBeNull();
  });
  it('[N/A] and no processes are "not available", never 0', () => {
    const na = parseComputeApps(fx('nvidia-smi-apps-na.txt'));
    expect(na[0]!.usedBytes).toBeNull();
    const r = gpuBytesForPids(na, new Set([12345]));
    expect(r.bytes).toBeNull();
    expect(r.reason).toMatch(/N\/A/);
    expect(parseComputeApps(fx('nvidia-smi-apps-empty.txt'))).toEqual([]);
  });
  it('reads several GPUs and [N/A] device figures', () => {
    expect(parseGpuMemory(fx('nvidia-smi-gpu-two.txt'))).toEqual([
      { index: 0, usedBytes: 36501 * MIB, totalBytes: 81559 * MIB },
      { index: 1, usedBytes: 2 * MIB, totalBytes: 81559 * MIB },
    ]);
    expect(parseGpuMemory(fx('nvidia-smi-gpu-na.txt'))).toEqual([{ index: 0, usedBytes: null, totalBytes: null }]);
  });
  it('says clearly when there is no nvidia-smi', async () => {
    const smi = new NvidiaSmi(null);
    expect(smi.available).toBe(false);
    expect(await smi.devices()).toEqual({ ok: false, reason: 'not available: no nvidia-smi on PATH' });
  });
  it('the sampler keeps the GPU peak of the tree', () => {
    const s = new ProcessTreeSampler(process.pid, { nvidiaSmi: new NvidiaSmi(null) });
    expect(s.gpuFigure().note).toBe('not available: no nvidia-smi on PATH');
    s.recordGpu(parseComputeApps('7, a, 100\n8, b, 50\n'), new Set([7, 8]));
    s.recordGpu(parseComputeApps('7, a, 120\n'), new Set([7, 8]));
    expect(s.gpuFigure().bytes).toBe(150 * MIB);
  });
});

describe('/proc', () => {
  it('parses VmRSS/VmHWM and ppid (command names with spaces and parentheses)', () => {
    expect(parseProcStatus('Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n')).toEqual({ rssBytes: 1024 * 1024, hwmBytes: 2048 * 1024 });
    expect(parseProcStatus('Name:\tkthreadd\n')).toBeNull();
    expect(parseStatPpid('4242 (my (odd) name) S 17 4242 4242 0 -1')).toBe(17);
  });
  it('finds this process and its children and sums their memory', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setInterval(()=>{}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    try {
      expect(processTree(process.pid)).toContain(child.pid);
      const mem = treeMemory(process.pid)!;
      expect(mem.rssBytes).toBeGreaterThan(process.memoryUsage().rss); // the child's RSS is added
      expect(mem.hwmBytes).toBeGreaterThanOrEqual(mem.rssBytes);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('Prometheus text', () => {
  it('reads llama-server metrics and the difference before/after', () => {
    const before = parsePrometheusText(fx('llama-metrics-before.txt'));
    const after = parsePrometheusText(fx('llama-metrics-after.txt'));
    expect(metricSum(after, ['llamacpp:kv_cache_tokens'])!.value).toBe(490);
    expect(counterDelta(before, after, [['llamacpp:prompt_tokens_total'], ['llamacpp:tokens_predicted_total']])).toEqual({
      'llamacpp:prompt_tokens_total': 597,
      'llamacpp:tokens_predicted_total': 56,
    });
  });
  it('takes the deprecated vLLM name when the current one is absent, and labels', () => {
    const s = parsePrometheusText('vllm:gpu_cache_usage_perc{model_name="m",engine="0"} 0.25\nvllm:x_bucket{le="+Inf"} 3\n');
    expect(metricSum(s, ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'])).toEqual({ name: 'vllm:gpu_cache_usage_perc', value: 0.25 });
    expect(s.samples[1]!.labels.le).toBe('+Inf');
  });
});

describe('start-up logs', () => {
  it('llama-server: model buffer, KV self size, compute buffer, slot context', () => {
    const m = emptyStartupMemory();
    for (const l of fx('llama-server-log.txt').split('\n')) parseLlamaServerLogLine(l, m);
    expect(m.modelBuffers).toEqual({ CPU_Mapped: 1.12 * MIB });
    expect(m.kvBytes).toBe(1.25 * MIB);
    expect(m.computeBuffers).toEqual({ CPU: 36.51 * MIB });
    expect(m.nCtxSlot).toBe(512);
    expect(m.truncations).toBe(1); // the recorded 4,041-token prompt
  });
  it('llama-server: resident weights are every model buffer, which on x86 Q4_0 exceed the file (repacked)', () => {
    const m = emptyStartupMemory();
    // The lines a real build printed for medeval's 7.9 MiB Q4_0 demo model on x86.
    for (const l of ['load_tensors: tensor \'token_embd.weight\' (q4_0) (and 14 others) cannot be used with preferred buffer type CPU_AARCH64, using CPU instead',
      'load_tensors:   CPU_Mapped model buffer size =     6.75 MiB', 'load_tensors:  CPU_AARCH64 model buffer size =     7.91 MiB']) parseLlamaServerLogLine(l, m);
    const f = residentWeightsFigureOf(m);
    expect(f.bytes).toBeCloseTo(14.66 * MIB, 0);
    expect(f.source).toBe('llama-server start-up log, model buffer size: CPU_Mapped 6.75 MiB + CPU_AARCH64 7.91 MiB');
    expect(residentWeightsFigureOf(emptyStartupMemory())).toMatchObject({ bytes: null, note: 'not available: no model buffer size line in the log' });
  });
  it('vLLM: model loading, KV cache memory and tokens', () => {
    const m = emptyVllmStartup();
    for (const l of fx('vllm-startup-log.txt').split('\n')) parseVllmLogLine(l, m);
    expect(m.modelLoadingBytes).toBeCloseTo(14.2717 * 1024 ** 3, 0);
    expect(m.availableKvBytes).toBeCloseTo(54.82 * 1024 ** 3, 0);
    expect(m.kvCacheTokens).toBe(1026368);
    expect(m.maxConcurrency).toBe(125.29);
  });
  it('guesses GGUF quantisation from file names', () => {
    expect(guessQuant('/m/DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf')).toBe('Q4_K_M');
    expect(guessQuant('model-f16.gguf')).toBe('F16');
    expect(guessQuant('stories260K.gguf')).toBeUndefined();
  });
});
