// The metric table lives in src/core/metric-table.ts: the run record's latency fields (core/record.ts)
// are made from it, and the ground may import nothing above it. Re-exported here for the measuring and
// reporting code that has always read it from metrics/.
export * from '../core/metric-table.js';
