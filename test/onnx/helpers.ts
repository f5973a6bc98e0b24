// Shared by the ONNX tests: the tiny model folder (made once, cached under the git-ignored .cache/).
import { fileURLToPath } from 'node:url';
import { ensureTinyOnnxModel, type TinyOnnxModel } from '../../src/models/onnx-tiny.js';

export const TINY_ONNX_DIR = fileURLToPath(new URL('../../.cache/test-onnx/tiny-seed-7', import.meta.url));

export function tinyOnnxModel(): Promise<TinyOnnxModel> {
  return ensureTinyOnnxModel({ dir: TINY_ONNX_DIR, seed: 7 });
}

export const USER_TURN = [
  { role: 'user' as const, content: 'A 45-year-old patient has chest pain. Which is the answer? A) aspirin B) rest' },
];
