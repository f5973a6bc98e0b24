// What every benchmark hands back to bench/run.ts: tables to print and the data to write as JSON.

export interface BenchTable {
  title?: string;
  head: string[];
  rows: Array<Array<string | number>>;
}

export interface BenchResult {
  /** Printed under the tables: how to read them (shared cores, what a figure includes). */
  notes: string[];
  tables: BenchTable[];
  /** Targets with an honest verdict; run.ts copies them into summary.json. */
  targets?: Array<{ name: string; value: number; target: string; met: boolean }>;
  /** Everything measured, written to reports/bench/<name>.json. */
  data: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}
