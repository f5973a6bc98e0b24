// The llama-cpp-embedded kind's profile (runners/*.yaml), apart from the runner (llama-embedded.ts): what
// the registry needs of the kind (in-process-kinds.ts) without loading the runner (start-up).
import { z } from 'zod';

export const llamaEmbeddedProfileSchema = z.strictObject({
  kind: z.literal('llama-cpp-embedded'),
  label: z.string().min(1),
  /** Path to a .gguf file (./ and ../ paths resolve against the profile file's folder, others as written). */
  model: z.string().min(1),
  /** CPU threads for generation; set explicitly: node-llama-cpp's default is slow on small machines. */
  threads: z.number().int().positive().default(2),
  contextSize: z.number().int().positive().default(2048),
  batchSize: z.number().int().positive().optional(),
  /** "auto" reads the chat template from the GGUF; "deepseek" forces DeepSeek-R1's wrapper. */
  chatWrapper: z.enum(['auto', 'deepseek', 'general']).default('auto'),
  /** Tell the model maker's demo models apart from real ones in reports. */
  notes: z.string().optional(),
});
export type LlamaEmbeddedProfile = z.infer<typeof llamaEmbeddedProfileSchema>;
