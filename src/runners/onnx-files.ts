// Finding the files of an ONNX model folder in the layouts Hugging Face Optimum / transformers.js and
// onnxruntime-genai use, and which execution providers this onnxruntime-node install can actually run.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { configFromGenai, parseGenaiConfig, type GenaiConfig } from './onnx-genai-config.js';
import { ONNX_VARIANT_NAMES, ONNX_VARIANT_SUFFIX, type OnnxVariantName } from './onnx-profile.js';

export { ONNX_VARIANT_NAMES, ONNX_VARIANT_SUFFIX, type OnnxVariantName } from './onnx-profile.js';

/** Decoder file stems, newest export style first (older Optimum exports merge with/without-past graphs). */
const MODEL_STEMS = ['model', 'decoder_model_merged'];

export interface ResolvedOnnxModel {
  modelDir: string;
  /** Absolute path of the .onnx graph file. */
  modelFile: string;
  /** The variant name when chosen by name, else inferred from the file name ("custom" when it matches none). */
  variant: string;
  /** External weight files that belong to modelFile (model.onnx_data, model.onnx_data_1, model.onnx.data ...). */
  externalDataFiles: string[];
  /** modelFile plus its external data: the weights on disk. */
  weightsBytes: number;
  /** config.json, or genai_config.json restated in config.json's field names when there is no config.json. */
  config: Record<string, unknown>;
  /** Which file `config` came from. */
  configSource: 'config.json' | 'genai_config.json';
  /** genai_config.json when the folder has one (onnxruntime-genai layout). */
  genai: GenaiConfig | null;
  generationConfig: Record<string, unknown> | null;
}

export interface ResolveOptions {
  variant?: string;
  file?: string;
}

const MODEL_DIR_HINT =
  'point `modelDir` at a folder holding config.json, tokenizer.json and onnx/model*.onnx ' +
  '(an Optimum export: `optimum-cli export onnx --model <hf-id> --task text-generation-with-past <dir>`), ' +
  'or at an onnxruntime-genai folder (genai_config.json, tokenizer.json, model.onnx), ' +
  'or make the tiny test model with ensureTinyOnnxModel()';

async function readJson(path: string, field: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`${basename(path)} not found in the model folder: ${path}`, { field }, MODEL_DIR_HINT);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`${path} is not valid JSON (${(e as Error).message})`, { file: path, field });
  }
}

async function listOnnxFiles(modelDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['onnx', '.']) {
    try {
      for (const name of await readdir(join(modelDir, sub))) if (name.endsWith('.onnx')) found.push(join(sub, name));
    } catch {
      // a missing onnx/ subfolder is normal for root-level exports
    }
  }
  return found.map((f) => f.replace(/^\.\//, ''));
}

/** The variant a file name stands for, or "custom". */
export function variantOfFile(file: string): string {
  const stem = basename(file, '.onnx');
  for (const s of MODEL_STEMS) {
    if (!stem.startsWith(s)) continue;
    const suffix = stem.slice(s.length);
    const hit = ONNX_VARIANT_NAMES.find((v) => ONNX_VARIANT_SUFFIX[v] === suffix);
    if (hit) return hit;
  }
  return 'custom';
}

/** External data files next to a graph, by the names onnx.save / Optimum / transformers.js give them. */
async function externalDataOf(modelFile: string): Promise<string[]> {
  const dir = dirname(modelFile);
  const name = basename(modelFile);
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(_data(_\\d+)?|\\.data)$`);
  const names = (await readdir(dir)).filter((n) => pattern.test(n)).sort();
  return names.map((n) => join(dir, n));
}

export async function resolveOnnxModel(modelDirIn: string, opts: ResolveOptions): Promise<ResolvedOnnxModel> {
  const modelDir = resolve(modelDirIn);
  let isDir = false;
  try {
    isDir = (await stat(modelDir)).isDirectory();
  } catch {
    throw new InputError(`ONNX model folder not found: ${modelDir}`, { field: 'modelDir' }, MODEL_DIR_HINT);
  }
  if (!isDir) throw new InputError(`modelDir is not a folder: ${modelDir}`, { field: 'modelDir' }, MODEL_DIR_HINT);
  const genaiPath = join(modelDir, 'genai_config.json');
  const genai = existsSync(genaiPath) ? parseGenaiConfig(await readJson(genaiPath, 'modelDir'), genaiPath) : null;
  const hasConfig = existsSync(join(modelDir, 'config.json'));
  if (!hasConfig && !genai) {
    throw new InputError(`neither config.json nor genai_config.json found in the model folder: ${modelDir}`, { field: 'modelDir' }, MODEL_DIR_HINT);
  }
  // config.json wins where both exist; genai_config.json fills what it leaves out.
  const config = {
    ...(genai ? configFromGenai(genai) : {}),
    ...(hasConfig ? await readJson(join(modelDir, 'config.json'), 'modelDir') : {}),
  };
  if (!existsSync(join(modelDir, 'tokenizer.json'))) {
    throw new InputError(`tokenizer.json not found in the model folder: ${modelDir}`, { field: 'modelDir' },
      'copy tokenizer.json and tokenizer_config.json from the original Hugging Face model into the export folder');
  }
  const generationConfig = existsSync(join(modelDir, 'generation_config.json'))
    ? await readJson(join(modelDir, 'generation_config.json'), 'modelDir')
    : null;

  const available = await listOnnxFiles(modelDir);
  const describeAvailable = () =>
    available.length
      ? `available: ${available.map((f) => `${f} (${variantOfFile(f)})`).join(', ')}`
      : 'the folder holds no .onnx files';

  let modelFile: string;
  let variant: string;
  if (opts.file) {
    modelFile = resolve(modelDir, opts.file);
    if (!existsSync(modelFile)) {
      throw new InputError(`ONNX file not found: ${modelFile}`, { field: 'file' }, `${describeAvailable()}; set \`file\` to one of them (relative to modelDir)`);
    }
    variant = variantOfFile(modelFile);
  } else if (!opts.variant && genai?.model.decoder.filename) {
    // An onnxruntime-genai folder names its one decoder graph.
    modelFile = resolve(modelDir, genai.model.decoder.filename);
    if (!existsSync(modelFile)) {
      throw new InputError(`${genaiPath} names model.decoder.filename "${genai.model.decoder.filename}", which is not in the folder`,
        { file: genaiPath, field: 'model.decoder.filename' }, `${describeAvailable()}; set \`file\` to one of them (relative to modelDir)`);
    }
    variant = 'genai';
  } else {
    const name = opts.variant ?? 'fp32';
    if (!(ONNX_VARIANT_NAMES as string[]).includes(name)) {
      throw new InputError(`unknown ONNX variant "${name}"`, { field: 'variant' }, `use one of ${ONNX_VARIANT_NAMES.join(', ')}, or set \`file\``);
    }
    const suffix = ONNX_VARIANT_SUFFIX[name as OnnxVariantName];
    const candidates = MODEL_STEMS.flatMap((stem) => [join('onnx', `${stem}${suffix}.onnx`), `${stem}${suffix}.onnx`]);
    const hit = candidates.find((c) => existsSync(join(modelDir, c)));
    if (!hit) {
      throw new InputError(`variant "${name}" not found in ${modelDir} (looked for ${candidates.slice(0, 2).join(', ')})`,
        { field: 'variant' }, `${describeAvailable()}; choose one of those variants or set \`file\``);
    }
    modelFile = join(modelDir, hit);
    variant = name;
  }
  const externalDataFiles = await externalDataOf(modelFile);
  let weightsBytes = (await stat(modelFile)).size;
  for (const f of externalDataFiles) weightsBytes += (await stat(f)).size;
  return { modelDir, modelFile, variant, externalDataFiles, weightsBytes, config, configSource: hasConfig ? 'config.json' : 'genai_config.json', genai, generationConfig };
}

export function relativeToModelDir(m: ResolvedOnnxModel, file: string): string {
  return relative(m.modelDir, file);
}

/**
 * Whether onnxruntime-node can run the CUDA execution provider here: its CUDA provider library is not in
 * the npm package and only exists when the install script downloaded it (ONNXRUNTIME_NODE_INSTALL=cuda12).
 */
export function cudaProviderStatus(): { available: boolean; reason: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { available: false, reason: `onnxruntime-node ships the CUDA provider for linux/x64 only (this is ${process.platform}/${process.arch})` };
  }
  let binDir: string;
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    binDir = join(dirname(entry), '..', 'bin', 'napi-v6', 'linux', 'x64');
  } catch {
    return { available: false, reason: 'onnxruntime-node is not installed' };
  }
  const lib = join(binDir, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(lib)) {
    return {
      available: false,
      reason: `onnxruntime-node's CUDA provider library is not installed (${lib} is missing; its install script was skipped)`,
    };
  }
  return { available: true, reason: `found ${lib}` };
}
