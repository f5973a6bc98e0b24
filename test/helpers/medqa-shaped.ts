// MedQA-shaped test data: records in the real US/test.jsonl shape (question, answer, options A-E,
// meta_info, answer_idx) with vignettes written here, of about the real files' length (150-250 words).
// Never exam or dataset questions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FINDINGS = ['fatigue', 'low-grade fever', 'night sweats', 'joint pain', 'shortness of breath on exertion', 'a dry cough',
  'weight loss of 4 kg', 'intermittent abdominal pain', 'swelling of both ankles', 'blurred vision', 'palpitations', 'a rash on the forearms'];
const OPTIONS = ['Obtain a chest radiograph', 'Begin oral corticosteroids', 'Measure serum thyroid-stimulating hormone',
  'Refer for echocardiography', 'Start empiric antibiotics', 'Order a complete blood count', 'Reassure and follow up in 4 weeks'];

/** One vignette of about `words` words (the last sentence asks the question). */
export function vignette(i: number, words = 200): string {
  const age = 25 + ((i * 7) % 50);
  const sex = i % 2 ? 'woman' : 'man';
  const parts = [`A ${age}-year-old ${sex} comes to the clinic because of ${FINDINGS[i % FINDINGS.length]} for ${2 + (i % 9)} weeks.`];
  let k = 0;
  while (parts.join(' ').split(/\s+/).length < words - 20) {
    const f = FINDINGS[(i + k) % FINDINGS.length]!;
    parts.push(`On further questioning the patient also reports ${f}, which began ${1 + ((i + k) % 6)} days after the first symptoms and has not improved with rest.`);
    parts.push(`Temperature is ${(36.6 + ((i + k) % 9) / 10).toFixed(1)} C, pulse is ${70 + ((i * 3 + k) % 40)}/min, and blood pressure is ${110 + ((i + k) % 30)}/${70 + (k % 15)} mm Hg.`);
    k++;
  }
  parts.push('Which of the following is the most appropriate next step in management?');
  return parts.join(' ');
}

/** Writes `n` MedQA-format records to `dir`/test.jsonl and returns the file. */
export function writeMedqaShaped(dir: string, n: number, opts: { words?: number; longAt?: number[]; longWords?: number } = {}): string {
  const letters = ['A', 'B', 'C', 'D', 'E'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const options = Object.fromEntries(letters.map((l, j) => [l, OPTIONS[(i + j) % OPTIONS.length]!]));
    const idx = letters[i % 5]!;
    const words = opts.longAt?.includes(i) ? (opts.longWords ?? 3000) : (opts.words ?? 200);
    lines.push(JSON.stringify({ question: vignette(i, words), answer: options[idx], options, meta_info: i % 2 ? 'step2&3' : 'step1', answer_idx: idx }));
  }
  const file = join(dir, 'test.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
