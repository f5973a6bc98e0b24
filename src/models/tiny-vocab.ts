// A small SentencePiece-style vocabulary (llama.cpp's "llama" tokenizer model) for the tiny models:
// <unk>, <s>, </s>, the 256 byte-fallback tokens <0x00>..<0xFF>, DeepSeek-R1's chat markers, then
// pieces with the "▁" word marker. llama.cpp's SPM tokenizer builds words by merging adjacent
// symbols whose concatenation is in the vocabulary, so every word comes with its whole prefix chain
// ("▁p", "▁pa", "▁pat", ...); anything the pieces cannot spell falls back to byte tokens.

/** llama.cpp token types (llama_token_type). */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

export const SPACE_MARKER = '\u2581'; // "▁"

export interface TinyVocab {
  tokens: string[];
  scores: number[];
  tokenTypes: number[];
  unkId: number;
  bosId: number;
  eosId: number;
  /** Ids of the pieces the maker makes likely in the output (answer-shaped text). */
  favouredIds: number[];
}

/** DeepSeek-R1's turn markers and reasoning tags; user-defined tokens are matched in plain text too. */
export const CHAT_TOKENS: ReadonlyArray<readonly [string, number]> = [
  ['<｜User｜>', TokenType.USER_DEFINED],
  ['<｜Assistant｜>', TokenType.USER_DEFINED],
  ['<｜end▁of▁sentence｜>', TokenType.CONTROL],
  ['<think>', TokenType.USER_DEFINED],
  ['</think>', TokenType.USER_DEFINED],
];

const SINGLE_CHARS = [
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'0123456789',
  ...'.,:;?!()[]\'"-/%+=*<>#&_',
];

/** Words that make generated text look like an answer to a multiple-choice question. */
const ANSWER_WORDS = [
  'Answer', 'answer', 'A', 'B', 'C', 'D', 'E', 'The', 'the', 'correct', 'option', 'is', 'Therefore', 'so',
  'most', 'likely', 'best', 'next', 'step', 'because', 'patient', 'Okay', 'let', 'me', 'think', 'about',
  'this', 'question', 'Final',
];

/** Pieces without the word marker (after punctuation or a newline). */
const BARE_WORDS = ['Answer', 'Therefore', 'Okay', 'The', 'So', 'Final', 'answer', 'is'];

const ENGLISH_WORDS = `a an and or not of to in on at by for with from as that which who what when where why how
be are was were been being has have had do does did can could would should may might must will
it its he she they them his her their this these those there here than then also only very more less
first second third one two three four five six seven eight ten years year old day days week weeks
month months history presents presented shows showed following findings given most least likely
because however although after before during while since without within between into over under
each other all any some no yes if but new normal high low increased decreased left right upper lower
acute chronic mild severe recent recently past family social physical examination exam reveals
temperature pressure pulse rate blood respirations per minute mm Hg kg cm which statement true false
following best explains describes initial appropriate management diagnosis treatment cause
mechanism action drug effect effects adverse test tests result results level levels count
man woman boy girl child infant newborn adult elderly mother father pregnant weeks gestation
emergency department clinic hospital office physician nurse visit visits brought comes complains
pain fever cough nausea vomiting diarrhea fatigue weakness weight loss gain headache rash swelling
shortness breath chest abdominal abdomen back joint joints muscle skin eye eyes ear throat neck
heart lung lungs liver kidney kidneys brain bone bones stomach bowel colon blood cells cell
laboratory studies show serum urine plasma protein glucose sodium potassium calcium hemoglobin
tissue biopsy specimen imaging x ray CT MRI scan ultrasound ECG culture positive negative`.split(/\s+/);

const MEDICAL_WORDS = `diabetes mellitus hypertension infection pneumonia sepsis anemia asthma cancer tumor carcinoma
lymphoma leukemia stroke myocardial infarction failure fibrillation arrhythmia thrombosis embolism
hepatitis cirrhosis pancreatitis appendicitis cholecystitis nephritis syndrome disease disorder deficiency
antibiotic antibiotics insulin metformin aspirin heparin warfarin penicillin vancomycin amoxicillin
steroid steroids prednisone morphine furosemide lisinopril atorvastatin levothyroxine albuterol
surgery therapy dose doses oral intravenous administration prescribed started begun discontinued
receptor enzyme inhibitor inhibition agonist antagonist channel pathway gene mutation chromosome
virus viral bacteria bacterial fungal antibody antibodies immune inflammation inflammatory
artery arteries vein veins nerve nerves spinal cord thyroid adrenal pituitary insulin hormone
cardiac pulmonary renal hepatic neurologic gastrointestinal endocrine hematologic oncologic
vaccine vaccination screening prevention counseling consent confidentiality ethics autonomy
symptoms symptom sign signs onset duration progressive sudden worsening improves improved
biopsy histology microscopy staining gram lesion lesions mass nodule nodules edema effusion`.split(/\s+/);

function prefixChain(word: string): string[] {
  const chain: string[] = [];
  for (let end = 2; end <= word.length; end++) chain.push(word.slice(0, end));
  return chain;
}

/** A deterministic vocabulary of at most `maxTokens` tokens (specials and bytes always included). */
export function buildTinyVocab(maxTokens: number): TinyVocab {
  const tokens: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  const index = new Map<string, number>();
  const add = (piece: string, type: number, score = 0): number => {
    const existing = index.get(piece);
    if (existing !== undefined) return existing;
    index.set(piece, tokens.length);
    tokens.push(piece);
    types.push(type);
    scores.push(score);
    return tokens.length - 1;
  };

  const unkId = add('<unk>', TokenType.UNKNOWN);
  const bosId = add('<s>', TokenType.CONTROL);
  const eosId = add('</s>', TokenType.CONTROL);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, TokenType.BYTE);
  for (const [piece, type] of CHAT_TOKENS) add(piece, type);
  const fixed = tokens.length + 1 + SINGLE_CHARS.length;
  if (maxTokens < fixed) throw new RangeError(`a tiny vocabulary needs at least ${fixed} tokens, asked for ${maxTokens}`);

  // Normal pieces score by order: earlier (more common) pieces win merges, as in a trained model.
  let rank = 0;
  const addPiece = (piece: string): number => add(piece, TokenType.NORMAL, -rank++);
  addPiece(SPACE_MARKER);
  for (const c of SINGLE_CHARS) addPiece(c);

  // In priority order: answer-shaped words first, so even the smallest vocabulary has them.
  const wordUnits: string[][] = [
    ...ANSWER_WORDS.map((w) => prefixChain(SPACE_MARKER + w)),
    ...BARE_WORDS.map((w) => prefixChain(w)),
    ...[...ENGLISH_WORDS, ...MEDICAL_WORDS].filter((w) => w).map((w) => prefixChain(SPACE_MARKER + w)),
  ];
  for (const chain of wordUnits) {
    const missing = chain.filter((p) => !index.has(p));
    if (tokens.length + missing.length > maxTokens) break;
    for (const p of missing) addPiece(p);
  }

  const favouredIds = [
    ...['Answer', ':', 'A', 'B', 'C', 'D', 'E'].map((w) => SPACE_MARKER + w),
    ':',
    'Answer',
    '<think>',
    '</think>',
  ]
    .map((p) => index.get(p))
    .filter((id): id is number => id !== undefined);

  return { tokens, scores, tokenTypes: types, unkId, bosId, eosId, favouredIds };
}
