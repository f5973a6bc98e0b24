// GPU memory of a server that spans several GPUs (vLLM with tensor / pipeline / data parallelism, or the
// Ray executor). Per-process attribution (nvidia-smi compute apps of the server's process tree) misses
// Ray's workers: they are children of the Ray raylet, not of `vllm serve`. So such a server's GPU memory is
// attributed by device: nvidia-smi memory.used on each GPU the server was given (CUDA_VISIBLE_DEVICES, or
// the first tensor x pipeline x data devices when it is unset, as CUDA numbers them), minus what each GPU
// held before the server started; each GPU is shown, and their sum is the server's figure. Any other
// process on those GPUs after the start would be counted too: the note says so.
import type { MemoryFigure } from '../core/types.js';
import type { GpuDeviceUsage } from './nvidia-smi.js';
import { formatBytes } from './units.js';

export interface ParallelSizes {
  tensor: number;
  pipeline: number;
  data: number;
  /** --distributed-executor-backend ray. */
  ray: boolean;
}

const SIZE_FLAGS: Array<[keyof Omit<ParallelSizes, 'ray'>, string[]]> = [
  ['tensor', ['--tensor-parallel-size', '-tp']],
  ['pipeline', ['--pipeline-parallel-size', '-pp']],
  ['data', ['--data-parallel-size', '-dp']],
];

/** The parallel sizes in `vllm serve` arguments (`--tensor-parallel-size N` or `--tensor-parallel-size=N`, and the like); 1 when absent. */
export function parallelSizes(args: readonly string[]): ParallelSizes {
  const value = (names: string[]): string | undefined => {
    for (let i = 0; i < args.length; i++) {
      const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
      if (names.includes(flag)) return inline ?? args[i + 1];
    }
    return undefined;
  };
  const out = { tensor: 1, pipeline: 1, data: 1, ray: value(['--distributed-executor-backend']) === 'ray' };
  for (const [key, names] of SIZE_FLAGS) {
    const n = Number(value(names));
    if (Number.isInteger(n) && n > 0) out[key] = n;
  }
  return out;
}

/** Whether per-process attribution can miss part of the server: several GPUs, or Ray's workers. */
export function needsDeviceAttribution(s: ParallelSizes): boolean {
  return s.ray || s.tensor * s.pipeline * s.data > 1;
}

export interface GpuAssignment {
  /** nvidia-smi indexes of the GPUs the server was given (on this machine). */
  indexes: number[];
  /** How they were found, for the report. */
  how: string;
  /** GPUs asked for (tensor x pipeline x data) that are not on this machine (Ray across nodes), if any. */
  elsewhere: number;
}

/**
 * The GPUs a server with these sizes uses, given CUDA_VISIBLE_DEVICES and the machine's devices. A
 * problem (GPUs named by UUID, an index the machine lacks) is returned as a string: the caller falls back
 * to per-process attribution and says why.
 */
export function assignedGpus(s: ParallelSizes, cudaVisibleDevices: string | undefined, devices: readonly GpuDeviceUsage[]): GpuAssignment | string {
  const want = s.tensor * s.pipeline * s.data;
  const sizes = `tensor ${s.tensor} x pipeline ${s.pipeline} x data ${s.data}${s.ray ? ', Ray executor' : ''}`;
  let visible: number[];
  let how: string;
  if (cudaVisibleDevices !== undefined && cudaVisibleDevices.trim() !== '') {
    const names = cudaVisibleDevices.split(',').map((x) => x.trim()).filter(Boolean);
    if (names.some((n) => !/^\d+$/.test(n))) return `CUDA_VISIBLE_DEVICES=${cudaVisibleDevices} names GPUs by UUID or MIG id, which this attribution does not map`;
    visible = names.map(Number);
    const unknown = visible.filter((i) => !devices.some((d) => d.index === i));
    if (unknown.length) return `CUDA_VISIBLE_DEVICES=${cudaVisibleDevices} names GPU(s) ${unknown.join(', ')}, which nvidia-smi does not list`;
    how = `the first ${Math.min(want, visible.length)} of CUDA_VISIBLE_DEVICES=${cudaVisibleDevices} (${sizes})`;
  } else {
    visible = devices.map((d) => d.index).sort((a, b) => a - b);
    how = `CUDA_VISIBLE_DEVICES unset: the first ${Math.min(want, visible.length)} GPU(s) (${sizes})`;
  }
  const indexes = visible.slice(0, want);
  return { indexes, how, elsewhere: Math.max(0, want - indexes.length) };
}

const bytesOrNa = (b: number | null) => (b === null ? '[N/A]' : formatBytes(b));

/** Peaks per GPU (used minus before-start) and of their sum, from nvidia-smi --query-gpu samples. */
export class DeviceMemoryTracker {
  private readonly peaks = new Map<number, number | null>();
  private sumPeak: number | null = null;
  private samples = 0;

  /** `before`: each GPU's memory.used before the server started (null: unknown, counted from 0). */
  constructor(readonly assignment: GpuAssignment, private readonly before: readonly GpuDeviceUsage[]) {
    for (const i of assignment.indexes) this.peaks.set(i, null);
  }

  private baseline(i: number): number {
    return this.before.find((d) => d.index === i)?.usedBytes ?? 0;
  }

  record(devices: readonly GpuDeviceUsage[]): void {
    let sum = 0;
    let known = 0;
    for (const i of this.assignment.indexes) {
      const used = devices.find((d) => d.index === i)?.usedBytes ?? null;
      if (used === null) continue;
      const mine = Math.max(0, used - this.baseline(i));
      this.peaks.set(i, Math.max(this.peaks.get(i) ?? 0, mine));
      sum += mine;
      known++;
    }
    if (known === 0) return;
    this.samples++;
    this.sumPeak = Math.max(this.sumPeak ?? 0, sum);
  }

  /** Each GPU's peak (MemoryReport.gpuDevices). */
  perDevice(totals: readonly GpuDeviceUsage[] = this.before): Array<{ index: number; peakBytes: number | null; totalBytes: number | null }> {
    return this.assignment.indexes.map((i) => ({ index: i, peakBytes: this.peaks.get(i) ?? null, totalBytes: totals.find((d) => d.index === i)?.totalBytes ?? null }));
  }

  figure(): MemoryFigure {
    const source = `nvidia-smi memory.used on the ${this.assignment.indexes.length} GPU(s) the server was given, minus their use before it started, ` +
      'peak of the sum over samples (attribution: devices; Ray workers are not children of vllm serve, so per-process figures miss them)';
    if (this.sumPeak === null) return { bytes: null, source, note: 'not available: no nvidia-smi reading of those GPUs' };
    const each = this.perDevice().map((d) => `GPU${d.index} ${bytesOrNa(d.peakBytes)} of ${bytesOrNa(d.totalBytes)}`).join(', ');
    const elsewhere = this.assignment.elsewhere ? `; ${this.assignment.elsewhere} GPU(s) of the server are not on this machine and not measured` : '';
    return {
      bytes: this.sumPeak,
      source,
      note: `GPUs: ${this.assignment.how}; per GPU peak: ${each}${elsewhere}; any other process on these GPUs after the start is counted too (${this.samples} sample(s))`,
    };
  }
}
