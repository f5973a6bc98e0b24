// Memory of a server process tree (llama-server, vLLM and its engine children), read from /proc and,
// where there is a GPU, nvidia-smi per PID. A sampler every <= 100 ms keeps the peaks, because a child
// that exits takes its VmHWM with it and GPU memory has no kernel high-water mark.
import { readdirSync, readFileSync } from 'node:fs';
import type { MemoryFigure, MemoryReport } from '../core/types.js';
import { gpuBytesForPids, NvidiaSmi, type GpuProcessUsage } from './nvidia-smi.js';
import { formatBytes } from './units.js';
import type { DeviceMemoryTracker } from './gpu-attribution.js';

const KIB = 1024;

export interface ProcMemory {
  /** Current resident set (VmRSS), bytes. */
  rssBytes: number;
  /** Peak resident set (VmHWM), bytes. */
  hwmBytes: number;
}

/** Parses /proc/PID/status text: VmRSS and VmHWM (kB). Kernel threads have neither: null. */
export function parseProcStatus(text: string): ProcMemory | null {
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  if (!rss || !hwm) return null;
  return { rssBytes: Number(rss[1]) * KIB, hwmBytes: Number(hwm[1]) * KIB };
}

/** Parent PID from /proc/PID/stat text; the command name may hold spaces and parentheses. */
export function parseStatPpid(text: string): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' '); // state ppid ...
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

export function readProcMemory(pid: number, procRoot = '/proc'): ProcMemory | null {
  try {
    return parseProcStatus(readFileSync(`${procRoot}/${pid}/status`, 'utf8'));
  } catch {
    return null; // gone, or no /proc
  }
}

/** The PID and all its descendants alive now (children found by ppid in /proc/[pid]/stat). */
export function processTree(rootPid: number, procRoot = '/proc'): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [rootPid];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`${procRoot}/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = parseStatPpid(stat);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/** Sum of VmRSS and of VmHWM over a process tree. null when the root is gone or /proc is missing. */
export function treeMemory(rootPid: number, procRoot = '/proc'): (ProcMemory & { pids: number[] }) | null {
  const pids = processTree(rootPid, procRoot);
  let rss = 0;
  let hwm = 0;
  let seen = 0;
  for (const pid of pids) {
    const m = readProcMemory(pid, procRoot);
    if (!m) continue;
    rss += m.rssBytes;
    hwm += m.hwmBytes;
    seen++;
  }
  return seen === 0 ? null : { rssBytes: rss, hwmBytes: hwm, pids };
}

export interface TreeSamplerOptions {
  intervalMs?: number;
  nvidiaSmi?: NvidiaSmi;
  procRoot?: string;
  /** A multi-GPU server: GPU memory by the devices it was given, not by its PIDs (gpu-attribution.ts). */
  devices?: DeviceMemoryTracker;
}

/**
 * Samples a process tree every `intervalMs` (default 100) and keeps: the peak of the tree's summed RSS,
 * the largest summed VmHWM seen (kernel peaks of processes alive at that moment), and the peak GPU memory
 * of the tree's PIDs. nvidia-smi calls never overlap: a slow call skips ticks rather than piling up.
 */
export class ProcessTreeSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  private readonly smi: NvidiaSmi;
  private readonly procRoot: string;
  private rssPeak = 0;
  private hwmPeak = 0;
  private lastRss: number | null = null;
  private gpuPeak: number | null = null;
  private gpuReason = 'not sampled yet';
  private gpuBusy = false;
  private samples = 0;
  readonly devices: DeviceMemoryTracker | null;

  constructor(private readonly rootPid: number, opts: TreeSamplerOptions = {}) {
    this.devices = opts.devices ?? null;
    this.intervalMs = Math.min(opts.intervalMs ?? 100, 100);
    this.smi = opts.nvidiaSmi ?? new NvidiaSmi();
    this.procRoot = opts.procRoot ?? '/proc';
    if (!this.smi.available) this.gpuReason = 'not available: no nvidia-smi on PATH';
  }

  start(): void {
    if (this.timer) return;
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One reading of /proc now (synchronous) and, when nvidia-smi exists and is idle, one GPU reading. */
  sampleNow(): void {
    const mem = treeMemory(this.rootPid, this.procRoot);
    if (mem) {
      this.samples++;
      this.lastRss = mem.rssBytes;
      this.rssPeak = Math.max(this.rssPeak, mem.rssBytes);
      this.hwmPeak = Math.max(this.hwmPeak, mem.hwmBytes);
      if (this.smi.available && !this.gpuBusy) void this.sampleGpu(new Set(mem.pids));
    }
  }

  private async sampleGpu(pids: Set<number>): Promise<void> {
    this.gpuBusy = true;
    try {
      if (this.devices) {
        const d = await this.smi.devices();
        if (d.ok) this.devices.record(d.value);
      }
      const apps = await this.smi.computeApps();
      if (!apps.ok) {
        this.gpuReason = apps.reason;
        return;
      }
      this.recordGpu(apps.value, pids);
    } finally {
      this.gpuBusy = false;
    }
  }

  /** Exposed for tests on recorded nvidia-smi output. */
  recordGpu(apps: GpuProcessUsage[], pids: Set<number>): void {
    const r = gpuBytesForPids(apps, pids);
    if (r.bytes === null) {
      if (this.gpuPeak === null) this.gpuReason = r.reason ?? 'not available';
      return;
    }
    this.gpuPeak = Math.max(this.gpuPeak ?? 0, r.bytes);
  }

  rssFigure(): MemoryFigure {
    this.sampleNow();
    if (this.lastRss === null) return notAvailable('/proc VmRSS of the server process tree', 'the server process is gone or /proc is missing');
    return { bytes: this.lastRss, source: `/proc VmRSS summed over the server process tree (pid ${this.rootPid} and children)` };
  }

  peakFigure(): MemoryFigure {
    this.sampleNow();
    if (this.samples === 0) return notAvailable('/proc VmHWM of the server process tree', 'no reading: the server process is gone or /proc is missing');
    const bytes = Math.max(this.hwmPeak, this.rssPeak);
    return {
      bytes,
      source: `peak of /proc VmHWM summed over the server process tree, sampled every ${this.intervalMs} ms`,
      note: 'the sum of per-process peaks can exceed the tree\'s simultaneous peak; children that exited between samples are missed',
    };
  }

  gpuFigure(): MemoryFigure {
    if (this.devices) {
      const f = this.devices.figure();
      // What per-process attribution saw on the same samples, for comparison (it misses Ray's workers).
      const byPid = this.gpuPeak === null ? this.gpuReason : formatBytes(this.gpuPeak);
      return { ...f, note: `${f.note ?? ''}; per-process attribution (the server's process tree) saw ${byPid}` };
    }
    if (this.gpuPeak === null) return notAvailable('nvidia-smi --query-compute-apps per PID', this.gpuReason);
    return {
      bytes: this.gpuPeak,
      source: `peak of nvidia-smi used_memory over the server process tree's PIDs, sampled every >= ${this.intervalMs} ms`,
    };
  }
}

export function notAvailable(source: string, reason: string): MemoryFigure {
  return { bytes: null, source, note: reason.startsWith('not available') ? reason : `not available: ${reason}` };
}

/** Device-wide GPU memory (all processes), for context only. */
export async function gpuDeviceFigure(smi: NvidiaSmi = new NvidiaSmi()): Promise<MemoryFigure> {
  const r = await smi.devices();
  if (!r.ok) return notAvailable('nvidia-smi --query-gpu', r.reason);
  const used = r.value.filter((d) => d.usedBytes !== null);
  if (used.length === 0) return notAvailable('nvidia-smi --query-gpu', r.value.length ? 'nvidia-smi reports [N/A] for memory.used' : 'no GPU listed');
  return {
    bytes: used.reduce((s, d) => s + (d.usedBytes ?? 0), 0),
    source: `nvidia-smi memory.used summed over ${used.length} GPU(s) (all processes, context only)`,
    note: r.value.map((d) => `GPU${d.index}: ${fmtGpuBytes(d.usedBytes)} / ${fmtGpuBytes(d.totalBytes)}`).join('; '),
  };
}

function fmtGpuBytes(b: number | null): string {
  return b === null ? '[N/A]' : formatBytes(b);
}

/** RSS, peak and GPU figures of a server tree, or "not available" with `whyNot` when the PID is unknown. */
export function serverProcessFigures(
  sampler: ProcessTreeSampler | null,
  whyNot: string,
): { processRss: MemoryFigure; processPeak: MemoryFigure; gpuProcessPeak: MemoryFigure } {
  if (!sampler) {
    return {
      processRss: notAvailable('/proc VmRSS of the server process tree', whyNot),
      processPeak: notAvailable('/proc VmHWM of the server process tree', whyNot),
      gpuProcessPeak: notAvailable('nvidia-smi per PID', whyNot),
    };
  }
  return { processRss: sampler.rssFigure(), processPeak: sampler.peakFigure(), gpuProcessPeak: sampler.gpuFigure() };
}

/** The memory report of a server runner: its weights and context figures, its process tree, the GPU. */
export async function serverMemoryReport(o: {
  mode: 'attached' | 'managed';
  sampler: ProcessTreeSampler | null;
  smi: NvidiaSmi;
  weights: MemoryFigure;
  /** The model buffers the engine says it allocated (start-up log), where it states them. */
  residentWeights?: MemoryFigure;
  context: MemoryFigure;
}): Promise<MemoryReport> {
  const whyNot = o.mode === 'attached'
    ? 'attached server: its process is not known to medeval (set pid in the profile to measure it)'
    : 'the managed server is not running';
  const devices = o.sampler?.devices;
  return {
    weights: o.weights,
    ...(o.residentWeights ? { residentWeights: o.residentWeights } : {}),
    ...serverProcessFigures(o.sampler, whyNot),
    ...(devices ? { gpuDevices: { attribution: 'devices' as const, how: devices.assignment.how, devices: devices.perDevice() } } : {}),
    gpuDevice: await gpuDeviceFigure(o.smi),
    context: o.context,
  };
}

/** One "<BUFFER> model buffer size = X MiB" line of llama.cpp's load log (llama-server's stderr, node-llama-cpp's logger). */
export function parseModelBufferLine(line: string): { buffer: string; bytes: number } | null {
  const r = /(\S+) model buffer size\s*=\s*([\d.]+) MiB/.exec(line);
  return r ? { buffer: r[1]!, bytes: Number(r[2]) * 1024 * 1024 } : null;
}

/**
 * The weights as llama.cpp holds them: every "model buffer size" line summed. They can exceed the file:
 * on x86 Q4_0 tensors are repacked into a CPU_AARCH64 (newer builds: CPU_REPACK) buffer beside the
 * CPU_Mapped file mapping (6.75 + 7.91 = 14.66 MiB resident for a 7.9 MiB file was seen).
 */
export function residentWeightsFigure(buffers: Record<string, number>, where: string): MemoryFigure {
  const parts = Object.entries(buffers);
  if (!parts.length) return notAvailable(`${where}, model buffer size`, 'no model buffer size line in the log');
  return {
    bytes: parts.reduce((a, [, b]) => a + b, 0),
    source: `${where}, model buffer size: ${parts.map(([k, v]) => `${k} ${formatBytes(v)}`).join(' + ')}`,
    note: 'the weights as the engine holds them (mapped file and repacked copies); can exceed the file',
  };
}
