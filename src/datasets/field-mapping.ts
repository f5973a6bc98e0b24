// The suite's `dataset.fields` block for format mapped (mapped.ts), apart from the loader so the
// dataset spec (types.ts) can name it without importing the loader.
import { z } from 'zod';

const fieldPath = z.string().min(1);

/** The suite's `dataset.fields` block. Paths may be dotted for nested fields (meta_info.subject). */
export const fieldMappingSchema = z.strictObject({
  /** Field with the record's own id; without it the id is a hash of question and options. */
  id: fieldPath.optional(),
  /** One field, or several joined with a space (sent1 + sent2). */
  question: z.union([fieldPath, z.array(fieldPath).min(1)]),
  /**
   * One field holding an object by letter, a list of strings or a list of {key, value}; or a list of
   * fields, one option each, lettered A, B, ... in the order given (ending0..ending3).
   */
  options: z.union([fieldPath, z.array(fieldPath).min(2)]),
  answer: fieldPath,
  /** How the answer is written: an option letter, an index into the options, or the option's text. */
  answerAs: z.enum(['letter', 'index', 'text']).default('letter'),
  /** answerAs index: counted from 0 or 1; auto detects (a 0 means 0-based, the option count 1-based) and reports. */
  indexBase: z.union([z.literal(0), z.literal(1), z.literal('auto')]).default('auto'),
  /** Item metadata: subject (feeds the per-subject summary), step, explanation; any other name goes to meta.extra. */
  meta: z.record(z.string().min(1), fieldPath).optional(),
});
export type FieldMapping = z.output<typeof fieldMappingSchema>;
export type FieldMappingInput = z.input<typeof fieldMappingSchema>;
