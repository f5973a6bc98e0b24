// The gate's floor: a plain script that reads both journals line by line, pairs the questions and runs
// McNemar's exact test on the flips. No validation, no report: the least work that reaches the verdict.
// usage: node mcnemar-floor.mjs BASELINE_DIR CURRENT_DIR
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

async function correctness(dir) {
  const out = new Map();
  for await (const line of createInterface({ input: createReadStream(join(dir, 'results.jsonl')), crlfDelay: Infinity })) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.sample === 0 && r.correct !== null) out.set(r.itemId, r.correct);
  }
  return out;
}

function binomialTwoSided(b, c) {
  const n = b + c, k = Math.min(b, c);
  let logC = 0, p = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    p += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * p);
}

const [base, curr] = await Promise.all([correctness(process.argv[2]), correctness(process.argv[3])]);
let b = 0, c = 0;
for (const [id, right] of base) {
  const other = curr.get(id);
  if (other === undefined) continue;
  if (right && !other) b++;
  else if (!right && other) c++;
}
console.log(JSON.stringify({ rightToWrong: b, wrongToRight: c, p: binomialTwoSided(b, c) }));
