// The definitions of the kinds that run in this process (llama-cpp-embedded, onnx, scripted): each one's
// profile schema comes from its small profile module, and its runner module (with what it imports) loads
// only when a profile of that kind is run, so reading any profile, or running a server kind, does not
// load them (start-up). The server kinds (llama-server, vllm) define themselves in their own modules.
import { defineRunner } from './definition.js';
import { llamaEmbeddedProfileSchema } from './llama-embedded-profile.js';
import { onnxProfileSchema } from './onnx-profile.js';
import { scriptedProfileSchema } from './scripted-profile.js';

export const llamaEmbeddedRunner = defineRunner({
  kind: 'llama-cpp-embedded',
  description: 'a GGUF model in this process, through node-llama-cpp',
  profileSchema: llamaEmbeddedProfileSchema,
  create: async (profile) => (await import('./llama-embedded.js')).createLlamaEmbeddedRunner(profile),
  capabilities: { likelihood: true, modes: ['in-process'], contextSetting: 'contextSize in the runner profile', pathFields: ['model'] },
});

export const onnxRunner = defineRunner({
  kind: 'onnx',
  description: 'an ONNX model folder in this process, through onnxruntime-node',
  profileSchema: onnxProfileSchema,
  create: async (profile) => (await import('./onnx.js')).createOnnxRunner(profile),
  capabilities: { likelihood: true, modes: ['in-process'], contextSetting: "the model's max_position_embeddings", pathFields: ['modelDir'] },
});

export const scriptedRunner = defineRunner({
  kind: 'scripted',
  description: 'answers and timings from a script, no model (for tests)',
  profileSchema: scriptedProfileSchema,
  create: async (profile) => (await import('./scripted.js')).createScriptedRunner(profile),
  capabilities: { likelihood: true, modes: ['in-process'], contextSetting: 'contextSize in the runner profile', pathFields: ['script'] },
});
