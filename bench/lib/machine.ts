// The machine a benchmark ran on, recorded beside every figure: numbers from a 2-core shared box and from
// a workstation are not comparable, and the load average says whether other work was competing.
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
  node: string;
  platform: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    totalMemoryBytes: totalmem(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** "1.23 / 1.10 / 0.95 (1/5/15 min) on 2 cores" */
export function describeLoad(): string {
  const l = loadavg().map((x) => x.toFixed(2));
  return `load average ${l.join(' / ')} (1/5/15 min) on ${cpus().length} cores`;
}
