// Makes the tiny GGUF models and caches them: a model file is reused when its sidecar
// `<file>.json` says it was made from the same preset, format, seed and maker version.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError } from '../core/errors.js';
import { writeGguf } from './gguf-writer.js';
import {
  buildTinyLlama,
  MODEL_PRESETS,
  TINY_MODEL_FORMATS,
  TINY_MODEL_PRESETS,
  type TinyModelFormat,
  type TinyModelPreset,
} from './tiny-llama.js';

export { MODEL_PRESETS, TINY_MODEL_FORMATS, TINY_MODEL_PRESETS };
export type { TinyModelFormat, TinyModelPreset };

/** Bump when the bytes a given (preset, format, seed) produces change, so caches are rebuilt. */
export const MAKER_VERSION = 1;
export const MAKER_NAME = 'medeval-tiny-llama';
export const DEFAULT_SEED = 1234;

export interface MakeTinyModelOptions {
  preset: TinyModelPreset;
  format: TinyModelFormat;
  seed?: number;
  outFile: string;
}

export interface TinyModelInfo {
  file: string;
  bytes: number;
  parameters: number;
  format: TinyModelFormat;
  preset: TinyModelPreset;
  seed: number;
  /** Time spent making the file; 0 when it came from the cache. */
  makeMs: number;
  cached: boolean;
}

interface Sidecar {
  maker: string;
  makerVersion: number;
  preset: TinyModelPreset;
  format: TinyModelFormat;
  seed: number;
  bytes: number;
  parameters: number;
  createdAt: string;
}

function checkOptions(preset: unknown, format: unknown, seed: unknown): void {
  if (!TINY_MODEL_PRESETS.includes(preset as TinyModelPreset)) {
    throw new InputError(`unknown model preset "${String(preset)}"`, { field: 'preset' }, `use one of: ${TINY_MODEL_PRESETS.join(', ')}`);
  }
  if (!TINY_MODEL_FORMATS.includes(format as TinyModelFormat)) {
    throw new InputError(`unknown model format "${String(format)}"`, { field: 'format' }, `use one of: ${TINY_MODEL_FORMATS.join(', ')}`);
  }
  if (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 0xffffffff) {
    throw new InputError(`seed must be an integer in 0..4294967295, got ${String(seed)}`, { field: 'seed' });
  }
}

export function sidecarPath(file: string): string {
  return `${file}.json`;
}

/** The file name ensureTinyModels uses, e.g. "tiny-llama-demo-q4_0.gguf". */
export function tinyModelFileName(preset: TinyModelPreset, format: TinyModelFormat): string {
  return `tiny-llama-${preset}-${format.toLowerCase()}.gguf`;
}

/** Write one tiny model to `outFile` (atomically: a temporary file renamed into place) and its sidecar. */
export async function makeTinyModel(options: MakeTinyModelOptions): Promise<TinyModelInfo> {
  const { preset, format, seed = DEFAULT_SEED } = options;
  checkOptions(preset, format, seed);
  const file = resolve(options.outFile);
  await mkdir(dirname(file), { recursive: true });
  const started = performance.now();
  const model = buildTinyLlama({ preset, format, seed });
  // Unique temp name: two processes making the same model never write into one file.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const written = await writeGguf(tmp, model.gguf);
    await rename(tmp, file);
    const sidecar: Sidecar = {
      maker: MAKER_NAME,
      makerVersion: MAKER_VERSION,
      preset,
      format,
      seed,
      bytes: written.bytes,
      parameters: model.parameters,
      createdAt: new Date().toISOString(),
    };
    await writeFile(sidecarPath(file), JSON.stringify(sidecar, null, 2) + '\n');
    return {
      file,
      bytes: written.bytes,
      parameters: model.parameters,
      format,
      preset,
      seed,
      makeMs: performance.now() - started,
      cached: false,
    };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The cached model's info when `file` exists and its sidecar matches; null otherwise. */
async function readCached(file: string, preset: TinyModelPreset, format: TinyModelFormat, seed: number): Promise<TinyModelInfo | null> {
  let sidecar: Partial<Sidecar>;
  try {
    sidecar = JSON.parse(await readFile(sidecarPath(file), 'utf8')) as Partial<Sidecar>;
  } catch {
    return null; // missing or unreadable sidecar: remake
  }
  if (
    sidecar.maker !== MAKER_NAME ||
    sidecar.makerVersion !== MAKER_VERSION ||
    sidecar.preset !== preset ||
    sidecar.format !== format ||
    sidecar.seed !== seed ||
    typeof sidecar.parameters !== 'number'
  ) {
    return null;
  }
  const size = await stat(file).then((s) => s.size, () => -1);
  if (size !== sidecar.bytes) return null; // truncated or replaced file
  return { file, bytes: size, parameters: sidecar.parameters, format, preset, seed, makeMs: 0, cached: true };
}

export interface EnsureTinyModelsOptions {
  dir: string;
  preset: TinyModelPreset;
  formats?: readonly TinyModelFormat[];
  seed?: number;
}

/** Make each requested format of `preset` in `dir` unless an identical one is already there. */
export async function ensureTinyModels(options: EnsureTinyModelsOptions): Promise<TinyModelInfo[]> {
  const { preset, formats = TINY_MODEL_FORMATS, seed = DEFAULT_SEED } = options;
  const dir = resolve(options.dir);
  const results: TinyModelInfo[] = [];
  for (const format of formats) {
    checkOptions(preset, format, seed);
    const file = join(dir, tinyModelFileName(preset, format));
    results.push((await readCached(file, preset, format, seed)) ?? (await makeTinyModel({ preset, format, seed, outFile: file })));
  }
  return results;
}
