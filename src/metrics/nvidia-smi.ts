// nvidia-smi readings: per-process GPU memory (--query-compute-apps) and device-wide memory (--query-gpu),
// in the CSV form `--format=csv,noheader,nounits` (MiB). Values can be "[N/A]" (MIG, some drivers) and a
// GPU with no compute processes prints nothing; both are "not available", never 0.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const MIB = 1024 * 1024;

export interface GpuProcessUsage {
  pid: number;
  processName: string;
  /** null when nvidia-smi printed [N/A]. */
  usedBytes: number | null;
}

export interface GpuDeviceUsage {
  index: number;
  usedBytes: number | null;
  totalBytes: number | null;
}

/** "[N/A]", "N/A", "[Not Supported]" and empty fields are missing values. */
function mibField(raw: string | undefined): number | null {
  const s = (raw ?? '').trim();
  if (s === '' || /^\[?(N\/A|Not Supported|Unknown Error)\]?$/i.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n * MIB : null;
}

/** Splits one CSV line; process names never contain commas in practice, but keep the last fields safe. */
function splitCsv(line: string, fields: number): string[] {
  const parts = line.split(',').map((p) => p.trim());
  if (parts.length <= fields) return parts;
  // A comma inside the middle field (process name): join it back.
  const head = parts[0]!;
  const tail = parts.slice(parts.length - (fields - 2));
  const middle = parts.slice(1, parts.length - (fields - 2)).join(',');
  return [head, middle, ...tail];
}

/** Parses `--query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(text: string): GpuProcessUsage[] {
  const out: GpuProcessUsage[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || /^No running/i.test(line.trim())) continue;
    const [pid, name, used] = splitCsv(line, 3);
    const pidNum = Number(pid);
    if (!Number.isInteger(pidNum)) continue; // a header or a message line, not a process
    out.push({ pid: pidNum, processName: name ?? '', usedBytes: mibField(used) });
  }
  return out;
}

/** Parses `--query-gpu=index,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseGpuMemory(text: string): GpuDeviceUsage[] {
  const out: GpuDeviceUsage[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const [index, used, total] = splitCsv(line, 3);
    const idx = Number(index);
    if (!Number.isInteger(idx)) continue;
    out.push({ index: idx, usedBytes: mibField(used), totalBytes: mibField(total) });
  }
  return out;
}

/** Path of an executable named `name` on PATH, or null. */
export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export type NvidiaSmiResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export const NO_NVIDIA_SMI = 'not available: no nvidia-smi on PATH';

/** Runs nvidia-smi; `binary` lets tests point at a recorded-output stand-in. */
export class NvidiaSmi {
  private readonly binary: string | null;

  constructor(binary: string | null = findOnPath('nvidia-smi')) {
    this.binary = binary;
  }

  get available(): boolean {
    return this.binary !== null;
  }

  private run(args: string[]): Promise<NvidiaSmiResult<string>> {
    const bin = this.binary;
    if (!bin) return Promise.resolve({ ok: false, reason: NO_NVIDIA_SMI });
    return new Promise((resolve) => {
      execFile(bin, args, { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) resolve({ ok: false, reason: `not available: nvidia-smi failed (${(stderr || err.message).trim().split('\n')[0]})` });
        else resolve({ ok: true, value: stdout });
      });
    });
  }

  async computeApps(): Promise<NvidiaSmiResult<GpuProcessUsage[]>> {
    const r = await this.run(['--query-compute-apps=pid,process_name,used_memory', '--format=csv,noheader,nounits']);
    return r.ok ? { ok: true, value: parseComputeApps(r.value) } : r;
  }

  async devices(): Promise<NvidiaSmiResult<GpuDeviceUsage[]>> {
    const r = await this.run(['--query-gpu=index,memory.used,memory.total', '--format=csv,noheader,nounits']);
    return r.ok ? { ok: true, value: parseGpuMemory(r.value) } : r;
  }
}

/** GPU bytes used by the given PIDs (a process tree). null with a reason when nothing can be said. */
export function gpuBytesForPids(apps: GpuProcessUsage[], pids: Set<number>): { bytes: number | null; reason?: string } {
  const mine = apps.filter((a) => pids.has(a.pid));
  if (mine.length === 0) return { bytes: null, reason: 'not available: no GPU process of this server tree in nvidia-smi' };
  if (mine.every((a) => a.usedBytes === null)) return { bytes: null, reason: 'not available: nvidia-smi reports [N/A] for this process (MIG or driver)' };
  return { bytes: mine.reduce((s, a) => s + (a.usedBytes ?? 0), 0) };
}
