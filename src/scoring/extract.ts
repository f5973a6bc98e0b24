// Answer extraction for multiple-choice generations, reasoning models included.
//
// Order of work:
//  1. Remove the reasoning. `<think>...</think>` blocks are dropped; a `</think>` with no opening tag
//     means the chat template prefilled `<think>`; an unterminated block means the token budget ran out
//     mid-reasoning, which is "truncated" and never answered, whatever letters the reasoning discussed
//     (lighteval#869). A letter is never taken from the reasoning.
//  2. Explicit statements ("Answer: C", "the answer is (C)", "\boxed{C}", "I'd go with C"...): every one
//     in the answer text is found and the LAST one wins, so a self-correction ("Answer: B ... wait,
//     actually the answer is C") resolves to C. Wrappers such as `$C$`, `**C**`, `(C)`, `\text{C}` are
//     looked through (inspect_ai#5145, NVIDIA-NeMo/Gym#1790).
//  3. Only when no explicit statement exists, weaker forms in this order: the whole reply is a letter,
//     bold letters, lines that start with an option prefix ("C. Metformin"), and finally the text of
//     exactly one option. Within each of these, two different letters are "ambiguous", never a guess.
//  4. Nothing found: "unparseable" (or "truncated" when the generation stopped on its token limit), kept
//     apart from wrong answers (inspect_ai#5323).

import type { ExtractedAnswer, FinishReason, Letter } from '../core/types.js';

export interface ExtractOptions {
  /** Reasoning the engine returned separately (reasoning_content); null or absent when inline. */
  reasoning?: string | null;
  /** The chat template prefilled `<think>`: the generated text starts inside the reasoning. */
  startsInReasoning?: boolean;
  /** Why the generation stopped. "length" marks a reply with no answer as truncated rather than unparseable. */
  finishReason?: FinishReason;
}

/** The names `ExtractedAnswer.method` takes: the rule that fired, or why nothing was taken. */
export const EXTRACTION_METHODS = [
  'answer-colon',
  'answer-is',
  'boxed',
  'bare-letter',
  'bold',
  'option-prefix',
  'option-text',
  'empty',
  'no-answer-found',
  'ambiguous',
  'letter-not-an-option',
  'truncated-reasoning',
  'truncated-answer',
] as const;
export type ExtractionMethod = (typeof EXTRACTION_METHODS)[number];

/**
 * Find the option letter a generation chose.
 * @param raw everything the model produced (reasoning included when it came inline)
 * @param options the item's options by letter, e.g. { A: "Metformin", B: "Insulin", ... }
 */
export function extractAnswer(raw: string, options: Record<Letter, string>, opts: ExtractOptions = {}): ExtractedAnswer {
  const index = indexOptions(options);
  const { answerText, unterminated } = removeReasoning(String(raw ?? ''), opts);
  const shown = answerText.trim();
  const result = (letter: Letter | null, status: ExtractedAnswer['status'], method: ExtractionMethod): ExtractedAnswer => ({
    letter,
    status,
    method,
    answerText: shown,
  });

  if (unterminated) return result(null, 'truncated', 'truncated-reasoning');
  const hitLimit = opts.finishReason === 'length';
  if (shown === '') {
    if (hitLimit) {
      // With separated reasoning the engine puts an unclosed think block in reasoning_content.
      const separatedReasoning = (opts.reasoning ?? '').trim() !== '';
      return result(null, 'truncated', separatedReasoning ? 'truncated-reasoning' : 'truncated-answer');
    }
    return result(null, 'unparseable', 'empty');
  }

  // NFKC folds full-width letters and punctuation (Ｃ, （, ：) into ASCII.
  const text = shown.normalize('NFKC');
  const decision =
    lastExplicitStatement(text, index) ??
    decideTier(bareLetter(text), index) ??
    decideTier(boldLetters(text, index), index) ??
    decideTier(optionPrefixLines(text, index), index) ??
    decideTier(optionTextAnywhere(text, index), index);

  if (!decision) return hitLimit ? result(null, 'truncated', 'truncated-answer') : result(null, 'unparseable', 'no-answer-found');
  if (decision.ambiguous) return result(null, 'unparseable', 'ambiguous');
  if (!index.letters.has(decision.letter)) return result(null, 'unparseable', 'letter-not-an-option');
  return result(decision.letter, 'answered', decision.method);
}

// ---------------------------------------------------------------------------------------------------
// Reasoning removal

const THINK_TAG = /<(\/?)think\s*>/gi;

function removeReasoning(raw: string, opts: ExtractOptions): { answerText: string; unterminated: boolean } {
  // Separated reasoning: the engine already parsed the think block, so a prefilled opener is not ours to track.
  const separated = opts.reasoning != null;
  let inReasoning = !separated && opts.startsInReasoning === true;
  let answer = '';
  let last = 0;
  for (const m of raw.matchAll(THINK_TAG)) {
    const closing = m[1] === '/';
    const at = m.index ?? 0;
    if (!inReasoning && !closing) {
      answer += raw.slice(last, at);
      inReasoning = true;
    } else if (inReasoning && closing) {
      inReasoning = false;
    } else if (!inReasoning && closing) {
      // A closing tag with no opener: everything before it was reasoning (the template prefilled `<think>`).
      answer = '';
    }
    last = at + m[0].length;
  }
  if (!inReasoning) answer += raw.slice(last);

  // Some runners keep reasoning_content and also prepend it to the raw text without tags.
  const reasoning = (opts.reasoning ?? '').trim();
  if (reasoning !== '' && answer.trimStart().startsWith(reasoning)) {
    answer = answer.trimStart().slice(reasoning.length);
  }
  return { answerText: answer, unterminated: inReasoning };
}

// ---------------------------------------------------------------------------------------------------
// Options

interface OptionIndex {
  letters: Set<string>;
  texts: Array<{ letter: string; norm: string }>;
}

function indexOptions(options: Record<Letter, string>): OptionIndex {
  const letters = new Set<string>();
  const texts: OptionIndex['texts'] = [];
  for (const [key, value] of Object.entries(options ?? {})) {
    const letter = key.trim().toUpperCase();
    if (!/^[A-Z]$/.test(letter)) {
      throw new TypeError(`extractAnswer: option keys must be single letters A-Z, got "${key}"`);
    }
    letters.add(letter);
    const norm = normaliseWords(String(value ?? ''));
    if (norm !== '') texts.push({ letter, norm });
  }
  if (letters.size === 0) throw new TypeError('extractAnswer: the item has no options');
  return { letters, texts };
}

/** Lower-case words separated by single spaces: case- and punctuation-insensitive comparison. */
function normaliseWords(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/**
 * Letters of the options whose text appears as whole words in `words` (already normalised).
 * An option whose text lies inside a longer matched option's text ("insulin" in "metformin and insulin")
 * is dropped in favour of the longer one.
 */
function optionsNamedIn(words: string, index: OptionIndex, minLength: number): string[] {
  const padded = ` ${words} `;
  const hits = index.texts.filter((o) => (o.norm.length >= minLength || o.norm === words) && padded.includes(` ${o.norm} `));
  const kept = hits.filter((o) => !hits.some((other) => other !== o && other.norm.length > o.norm.length && ` ${other.norm} `.includes(` ${o.norm} `)));
  return [...new Set(kept.map((o) => o.letter))];
}

/** Letters of the options whose text the words start with. */
function optionsStartingWith(words: string, index: OptionIndex): string[] {
  return [...new Set(index.texts.filter((o) => words === o.norm || words.startsWith(o.norm + ' ')).map((o) => o.letter))];
}

// ---------------------------------------------------------------------------------------------------
// Reading one choice at a position: wrappers, the letter, and what follows it

interface Choice {
  letter: string;
  ambiguous: boolean;
}

// What may stand between a trigger ("Answer:") and the letter: spaces, markdown and LaTeX wrappers,
// and filler words ("option", "likely"). Kept free of nested quantifiers so hostile input stays linear.
const LEAD =
  /(?:\s|[*_$`"'([{:=~,-]|\\[([]|\\(?:text(?:bf|rm|it|sf|tt)?|math(?:rm|bf|it|sf|tt)?|boxed|fbox|mbox)\s*\{|\b(?:option|choice|letter|answer|most|likely|probably|clearly|definitely|therefore|thus|hence|indeed)\b)*/iy;
const TRAIL = /(?:[*_$`"')\]}]|\\[)\]])*/y;
const JOINER = /\s*(?:,|\/|&|\bor\b|\band\b)\s*[(\[*$`"']*/iy;
const WRAPPER_CHARS = /[*_$`"'([{\\]/;

function sticky(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

// Words that never follow an article or "I", so "A or B" and "A because..." keep their letter.
const NOT_AFTER_ARTICLE = /^[ \t]+(?:or|and|because|since|as|is|but|seems|appears)\b/;

/** The letter at `at` (no wrappers skipped), if it stands alone rather than starting a word. */
function letterAt(text: string, at: number, wrapped: boolean, index: OptionIndex): { letter: string; end: number } | null {
  const ch = text[at];
  if (ch === undefined || !/[A-Za-z]/.test(ch)) return null;
  const trail = sticky(TRAIL, text, at + 1);
  const end = at + 1 + (trail ? trail[0].length : 0);
  const next = text[end] ?? '';
  const after = text[end + 1] ?? '';
  if (/[\p{L}\p{N}]/u.test(next)) return null; // inside a word: "After", "B12"
  if (next === '.' && /[A-Za-z]/.test(after)) return null; // abbreviation: "e.g.", "U.S."
  if (/[-'’]/.test(next) && /[\p{L}\p{N}]/u.test(after)) return null; // "B-cell", "X-ray", "A's"
  const letter = ch.toUpperCase();
  if (ch !== letter && !index.letters.has(letter)) return null; // a lower-case non-option letter is a word
  if (!wrapped && /[AaIi]/.test(ch) && /^[ \t]+[a-z0-9]/.test(text.slice(end, end + 3)) && !NOT_AFTER_ARTICLE.test(text.slice(end, end + 12))) {
    // "A 45-year-old man", "a beta blocker", "I think": an article or pronoun, unless the option text follows.
    const own = index.texts.find((o) => o.letter === letter);
    const rest = normaliseWords(restOfLine(text, end));
    if (!own || !(rest === own.norm || rest.startsWith(own.norm + ' '))) return null;
  }
  return { letter, end };
}

function restOfLine(text: string, from: number, limit = 300): string {
  const nl = text.indexOf('\n', from);
  return text.slice(from, Math.min(nl === -1 ? text.length : nl, from + limit));
}

/** Read "[wrappers] LETTER [wrappers]" at `at`, then check it is not "A or B" and not followed by another option's text. */
function readChoice(text: string, at: number, index: OptionIndex): Choice | null {
  const lead = sticky(LEAD, text, at);
  const leadText = lead ? lead[0] : '';
  const first = letterAt(text, at + leadText.length, WRAPPER_CHARS.test(leadText), index);
  if (!first) return null;

  // "A or B", "A/B", "A, B.": two letters asserted at once. After "," or "and" the second letter must
  // end the phrase, so "C, B is wrong" still answers C.
  const joiner = sticky(JOINER, text, first.end);
  if (joiner && joiner[0].trim() !== '') {
    const second = letterAt(text, first.end + joiner[0].length, /[(\[*$`"']/.test(joiner[0]), index);
    const alternative = /\bor\b|\//i.test(joiner[0]);
    const endsPhrase = second !== null && /^\s*(?:$|[.,;:!?)\]\n]|(?:or|and)\b)/i.test(text.slice(second.end, second.end + 6));
    if (second && second.letter !== first.letter && index.letters.has(second.letter) && (alternative || endsPhrase)) {
      return { letter: first.letter, ambiguous: true };
    }
  }

  // "C. Insulin" where Insulin is option B's text: the letter and the text disagree.
  const following = normaliseWords(restOfLine(text, first.end));
  if (following !== '') {
    const named = optionsStartingWith(following, index);
    if (named.length > 0 && !named.includes(first.letter)) return { letter: first.letter, ambiguous: true };
  }
  return { letter: first.letter, ambiguous: false };
}

// ---------------------------------------------------------------------------------------------------
// Tier 1: explicit statements, last one wins

interface Candidate {
  at: number;
  letter: string;
  ambiguous: boolean;
  method: ExtractionMethod;
}

interface Decision {
  letter: string;
  ambiguous: boolean;
  method: ExtractionMethod;
}

const ANSWER_COLON =
  /\b(?:(?:final|correct|best|my)\s+)?answer(?:\s*\((?:letter|option|choice)\))?\s*(?:\*\*|__)?\s*[:=]|\bfinal\s+answer\b(?:\s*(?:\*\*|__|#+))?[ \t]*(?=\r?\n)/giu;
const ANSWER_IS =
  /\b(?:answer|choice|option|response|selection)\s+(?:(?:would|should|must|will|could)\s+be|is)\b|\bI\s*(?:would|will|'ll|'d|’ll|’d)?\s*(?:choose|pick|select|go\s+with)\b|\b(?:is|be)\s+(?=(?:option|choice)\s*\(?[A-Za-z]\b)/giu;
// "Option C is correct", "(C) is the best answer": the letter comes before the verdict. A bare capital
// counts only at the start of a clause, so "Hepatitis B is correct" or "vitamin D is correct" do not.
const LETTER_IS_CORRECT =
  /(?:\b(?:[Oo]ption|[Cc]hoice)\s+\(?([A-Za-z])\)?|\(([A-Za-z])\)|\*\*\(?([A-Z])\)?\*\*|(?<=^|[\n.:;!?,]\s*|\b(?:[Ss]o|[Tt]hus|[Hh]ence|[Tt]herefore)\s+)([A-Z]))(?![\p{L}\p{N}])\s+is\s+(?:the\s+)?(?:(?:correct|right)\b|(?:best|most\s+appropriate)\s+(?:answer|choice|option)\b)/gu;
const HYPOTHETICAL = /\b(?:if|whether|unless|suppose|supposing|assuming)\s+(?:[\p{L}'’]+\s+){0,2}$/iu;
const BOXED = /\\(?:boxed|fbox)\s*\{/g;

function lastExplicitStatement(text: string, index: OptionIndex): Decision | null {
  const candidates: Candidate[] = [];
  for (const [re, method] of [
    [ANSWER_COLON, 'answer-colon'],
    [ANSWER_IS, 'answer-is'],
  ] as const) {
    for (const m of text.matchAll(re)) {
      const at = m.index ?? 0;
      if (HYPOTHETICAL.test(text.slice(Math.max(0, at - 30), at))) continue; // "if the answer is A, then..."
      const after = at + m[0].length;
      const choice = readChoice(text, after, index);
      if (choice) {
        candidates.push({ at, ...choice, method });
        continue;
      }
      const named = statedOptionText(text, after, index);
      if (named) candidates.push({ at, ...named, method: 'option-text' });
    }
  }
  for (const m of text.matchAll(LETTER_IS_CORRECT)) {
    const at = m.index ?? 0;
    if (HYPOTHETICAL.test(text.slice(Math.max(0, at - 30), at))) continue;
    const letter = (m[1] ?? m[2] ?? m[3] ?? m[4]).toUpperCase();
    candidates.push({ at, letter, ambiguous: false, method: 'answer-is' });
  }
  for (const m of text.matchAll(BOXED)) {
    const at = m.index ?? 0;
    const content = bracedContent(text, at + m[0].length);
    if (content === null) continue;
    const inner = stripLatex(content);
    const choice = readChoice(inner, 0, index) ?? optionTextChoice(normaliseWords(inner), index, 1);
    if (choice) candidates.push({ at, ...choice, method: 'boxed' });
  }
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a.at - b.at);
  const last = candidates[candidates.length - 1];
  return { letter: last.letter, ambiguous: last.ambiguous, method: last.method };
}

const SKIP_MARKUP = /[\s*_:$`"'#>=-]*/y;
const FILLER_WORDS = /^(?:(?:the|a|an|to|option|choice|most|likely|probably|clearly|definitely|therefore|thus)\s+)*/;

/**
 * "The answer is metformin.": the option whose text opens what follows a trigger. Only the opening
 * counts: "the answer is related to insulin resistance" does not choose "Insulin".
 */
function statedOptionText(text: string, at: number, index: OptionIndex): Choice | null {
  const skipped = sticky(SKIP_MARKUP, text, at);
  const line = normaliseWords(restOfLine(text, at + (skipped ? skipped[0].length : 0)));
  if (line === '' || /^not\b/.test(line)) return null;
  const named = optionsStartingWith(line.replace(FILLER_WORDS, ''), index);
  if (named.length === 0) return null;
  // Two options may share an opening ("Insulin" / "Insulin glargine"); the longest match is the one named.
  const longest = index.texts
    .filter((o) => named.includes(o.letter))
    .sort((a, b) => b.norm.length - a.norm.length)[0];
  return { letter: longest.letter, ambiguous: false };
}

function optionTextChoice(words: string, index: OptionIndex, minLength: number): Choice | null {
  if (words === '') return null;
  const named = optionsNamedIn(words, index, minLength);
  if (named.length === 0) return null;
  return { letter: named[0], ambiguous: named.length > 1 };
}

/** The text inside balanced braces starting at `from` (just after the `{`); null when unbalanced. */
function bracedContent(text: string, from: number, limit = 500): string | null {
  let depth = 1;
  const end = Math.min(text.length, from + limit);
  for (let i = from; i < end; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++; // an escaped brace does not count
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}' && --depth === 0) {
      return text.slice(from, i);
    }
  }
  return null;
}

/** `\text{C}` -> `C`, `$...$` and stray braces removed: how a letter was typeset, not what it says. */
function stripLatex(s: string): string {
  let out = s;
  for (let i = 0; i < 5; i++) {
    const next = out.replace(/\\(?:text(?:bf|rm|it|sf|tt)?|math(?:rm|bf|it|sf|tt|bb)?|mbox|textsc|boxed)\s*\{([^{}]*)\}/g, '$1');
    if (next === out) break;
    out = next;
  }
  return out.replace(/\\[()[\]]/g, ' ').replace(/[${}]/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------
// Tiers 2-5: weaker forms, used only when no explicit statement exists

function decideTier(candidates: Candidate[], index: OptionIndex): Decision | null {
  if (candidates.length === 0) return null;
  const method = candidates[0].method;
  const chosen = [...new Set(candidates.filter((c) => !c.ambiguous && index.letters.has(c.letter)).map((c) => c.letter))];
  // Several different letters in one tier: a list or a discussion, not an answer.
  if (candidates.some((c) => c.ambiguous) || chosen.length > 1) return { letter: candidates[0].letter, ambiguous: true, method };
  if (chosen.length === 1) return { letter: chosen[0], ambiguous: false, method };
  // Only letters outside the options ("E" on a four-option item).
  return { letter: candidates[0].letter, ambiguous: false, method };
}

/** The whole reply is a letter: "C", "C)", "(c)", "**C**", "$\text{C}$", "Option C". */
function bareLetter(text: string): Candidate[] {
  const bare = stripLatex(text.replace(/[*_`#>]/g, ' ')).trim();
  const m = /^(?:(?:option|choice)\s+)?[([]?\s*([A-Za-z])\s*[)\].:]?$/i.exec(bare);
  if (!m) return [];
  return [{ at: 0, letter: m[1].toUpperCase(), ambiguous: false, method: 'bare-letter' }];
}

const BOLD = /(\*\*|__)(?!\s)([^\n]{1,200}?)(?<!\s)\1/g;

function boldLetters(text: string, index: OptionIndex): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(BOLD)) {
    const content = m[2];
    const choice = readChoice(content, 0, index);
    // Emphasised prose that merely starts with a word ("**I** would...") is not a choice.
    if (choice && (index.letters.has(choice.letter) || /^\W*[A-Z]\W*$/.test(content))) {
      out.push({ at: m.index ?? 0, ...choice, method: 'bold' });
    }
  }
  return out;
}

// Upper case unless bracketed: "a." opening a sentence is not option A, but "(a)" and "a)" are.
const OPTION_PREFIX =
  /^(?:(?:[Oo]ption|[Cc]hoice)\s+)?(?:\(([A-Za-z])\)|\[([A-Za-z])\]|([A-Z])(?:[.:)](?=\s|$|\*)|\s+[-–—]\s)|([a-z])\))/;

/** Lines that start like an option: "C. Metformin", "(C) Metformin", "- C) Metformin". */
function optionPrefixLines(text: string, index: OptionIndex): Candidate[] {
  const out: Candidate[] = [];
  let at = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/^[\s>#*_•·-]+/, '');
    const m = OPTION_PREFIX.exec(line);
    if (m) {
      const raw = m[1] ?? m[2] ?? m[3] ?? m[4];
      const letter = raw.toUpperCase();
      if (index.letters.has(letter) || raw === letter) {
        const named = optionsStartingWith(normaliseWords(line.slice(m[0].length)), index);
        const ambiguous = named.length > 0 && !named.includes(letter);
        out.push({ at: at + rawLine.indexOf(line), letter, ambiguous, method: 'option-prefix' });
      }
    }
    at += rawLine.length + 1;
  }
  return out;
}

/** The reply names exactly one option's text: "Metformin is the first-line drug." */
function optionTextAnywhere(text: string, index: OptionIndex): Candidate[] {
  // Short option texts ("No", "IV") occur in ordinary prose; they count only when they are the whole reply.
  const choice = optionTextChoice(normaliseWords(text), index, 4);
  return choice ? [{ at: 0, ...choice, method: 'option-text' }] : [];
}
