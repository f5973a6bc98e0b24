import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { makeTinyModel, MODEL_PRESETS } from '../../models/make-models.js';
import { ensureTinyOnnxModel } from '../../models/onnx-tiny.js';
import { InputError } from '../../core/errors.js';
import { intOption } from '../options.js';
import { printOut } from '../terminal.js';
import { checkOutDir, checkOutFile } from '../out-path.js';
import { formatBytes } from '../../metrics/units.js';

const FORMATS = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;

export function registerMakeModel(program: Command): void {
  program
    .command('make-model')
    .description('write a tiny llama-architecture GGUF v3 model with seeded random weights (for tests and demos: NOT a real LLM)')
    .option('-p, --preset <name>', `size preset: ${Object.keys(MODEL_PRESETS).join(' | ')}`, 'test')
    .option('-f, --format <type>', `weights format: ${FORMATS.join(' | ')}`, (v) => {
      const f = v.toUpperCase();
      if (!(FORMATS as readonly string[]).includes(f)) throw new InvalidArgumentError(`format must be one of ${FORMATS.join(', ')}`);
      return f;
    }, 'F32')
    .option('--seed <n>', 'weights seed', intOption, 42)
    .option('--onnx', 'write the tiny ONNX decoder model folder instead (fp32, fp16, q8, q4 variants + tokenizer) for the onnx runner')
    .requiredOption('-o, --out <path>', 'the .gguf file to write (with --onnx: the model folder)')
    .action(async (o) => {
      if (o.onnx) checkOutDir(o.out, 'onnx-model');
      else checkOutFile(o.out, '--out', 'models/tiny.gguf');
      if (o.onnx) {
        const r = await ensureTinyOnnxModel({ dir: o.out, seed: o.seed });
        for (const v of r.variants) printOut(`${v.file}: ${v.name}, ${(v.bytes / 1e3).toFixed(0)} kB of weights\n`);
        return;
      }
      if (!(o.preset in MODEL_PRESETS)) throw new InputError(`unknown preset ${o.preset}`, { field: '--preset' }, `use one of ${Object.keys(MODEL_PRESETS).join(', ')}`);
      const r = await makeTinyModel({ preset: o.preset, format: o.format, seed: o.seed, outFile: o.out });
      printOut(`${r.file}: ${r.format}, ${r.parameters.toLocaleString('en-US')} parameters, ${formatBytes(r.bytes)}\n`);
    });
}
