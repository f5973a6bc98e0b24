// The run record: the schemas of a run folder's manifest.json and of one line of results.jsonl.
// Both the writer and every reader (run, resume, report, gate, rescore) validate with these.
import { z } from 'zod';

const nullableNumber = z.number().nullable();
const memoryFigure = z.object({ bytes: nullableNumber, source: z.string(), note: z.string().optional() });

export const manifestSchema = z.looseObject({
  schema: z.literal(1),
  medevalVersion: z.string(),
  createdAt: z.string(),
  gitCommit: z.string().nullable(),
  label: z.string().min(1),
  suite: z.looseObject({
    name: z.string(),
    file: z.string().nullable(),
    dataset: z.string(),
    datasetFiles: z.array(z.string()),
    datasetHash: z.string(),
    items: z.number().int().nonnegative(),
    skipped: z
      .object({ total: z.number().int().nonnegative(), records: z.array(z.object({ place: z.string(), reason: z.string() })) })
      .optional(),
    datasetItems: z.number().int().nonnegative().optional(),
    itemIdsSha256: z.string().optional(),
  }),
  runner: z.looseObject({ kind: z.string(), profileFile: z.string().nullable() }),
  model: z.looseObject({
    runner: z.string(),
    label: z.string(),
    parameters: nullableNumber,
    fileBytes: nullableNumber,
  }),
  sampling: z.looseObject({ temperature: z.number(), topP: z.number(), maxTokens: z.number() }),
  samples: z.number().int().positive(),
  seed: z.number(),
  configHash: z.string(),
  load: z.looseObject({
    profile: z.enum(['sequential', 'concurrency', 'rate']),
    concurrency: z.number().optional(),
    ratePerSecond: z.number().optional(),
    warmup: z.number(),
  }),
  memory: z
    .looseObject({
      weights: memoryFigure,
      processRss: memoryFigure,
      processPeak: memoryFigure,
      gpuProcessPeak: memoryFigure.optional(),
      gpuDevice: memoryFigure.optional(),
      context: memoryFigure.optional(),
    })
    .optional(),
  durationMs: z.number().nonnegative().optional(),
  finishedAt: z.string().optional(),
  status: z.enum(['running', 'finished', 'incomplete', 'interrupted', 'failed']),
  rescoredFrom: z
    .looseObject({ dir: z.string(), configHash: z.string(), medevalVersion: z.string(), at: z.string(), changed: z.number().int().nonnegative() })
    .optional(),
  // A shard run (run --shard) and a merged one (merge): what merge and the reports rely on.
  shard: z
    .looseObject({ index: z.number().int().nonnegative(), count: z.number().int().positive(), source: z.string(), rule: z.string(),
      itemsBeforeShard: z.number().int().nonnegative(), itemIdsBeforeShardSha256: z.string() })
    .refine((s) => s.index < s.count, { message: 'shard index must be below the shard count' })
    .optional(),
  merged: z
    .looseObject({
      count: z.number().int().positive(),
      rule: z.string(),
      shards: z.array(z.looseObject({ index: z.number().int().nonnegative(), dir: z.string(), records: z.number().int().nonnegative(),
        durationMs: nullableNumber, requestsPerS: nullableNumber, outputTokensPerS: nullableNumber })).min(1),
      missing: z.array(z.number().int().nonnegative()),
      partial: z.boolean(),
      throughput: z.looseObject({ requestsPerS: nullableNumber, outputTokensPerS: nullableNumber, method: z.string() }),
    })
    .optional(),
});

const timingsSchema = z.looseObject({
  startedAtEpochMs: z.number(),
  ttftMs: nullableNumber,
  ttfoMs: nullableNumber,
  e2eMs: z.number(),
  itlMs: z.array(z.number()),
  tpotMs: nullableNumber,
  queueMs: z.number().optional(),
  engine: z.record(z.string(), z.number()).optional(),
});

export const resultSchema = z.looseObject({
  schema: z.literal(1),
  itemId: z.string().min(1),
  sample: z.number().int().nonnegative(),
  dataset: z.string(),
  step: z.string().optional(),
  questionType: z.string(),
  typeReason: z.string(),
  template: z.string(),
  prompt: z.string(),
  question: z.string().optional(),
  gold: z.string().min(1),
  rawOutput: z.string(),
  reasoning: z.string().nullable(),
  extracted: z.looseObject({
    letter: z.string().nullable(),
    status: z.enum(['answered', 'unparseable', 'truncated']),
    method: z.string(),
    answerText: z.string(),
  }),
  correct: z.boolean().nullable(),
  promptTokens: nullableNumber,
  outputTokens: nullableNumber,
  tokenSource: z.string(),
  finishReason: z.enum(['stop', 'length', 'abort', 'error']),
  timings: timingsSchema.nullable(),
  error: z.looseObject({ kind: z.string(), message: z.string(), retries: z.number().optional() }).optional(),
  rssBytes: z.number().optional(),
  letterLogprobs: z.record(z.string(), z.number()).optional(),
  shard: z.number().int().nonnegative().optional(),
  replica: z.string().optional(),
  rescored: z
    .object({ previous: z.object({ letter: z.string().nullable(), status: z.enum(['answered', 'unparseable', 'truncated']), method: z.string(), correct: z.boolean().nullable() }) })
    .optional(),
});
