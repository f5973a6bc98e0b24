// Question-type classification by readable, user-editable rules (suites/prompts/question-types.yaml):
// ordered phrase/regex rules, first match wins, and the winning rule's name is recorded per item.
import { z } from 'zod';
import { sha256Hex } from '../core/sha256.js';
import { parseYamlText, readConfigText } from '../core/yaml-config.js';
import { BUNDLED_RULES } from './question-types.bundled.js';
import { QUESTION_TYPES, type QuestionType } from '../core/types.js';

/** Where a rule looks: the ask (final question sentence) or the whole question, vignette included. */
export const RULE_SCOPES = ['ask', 'question'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

/** Rule names the system itself records; a rule may not take them. */
export const RESERVED_RULE_NAMES = ['dataset', 'fallback'] as const;

export interface TypeRule {
  name: string;
  type: QuestionType;
  in: RuleScope;
  /** Phrases and regexes compiled to case-insensitive regexes, in file order. */
  patterns: RegExp[];
}

/**
 * A rule's patterns as one alternation, for the common case (the rule does not match): one regex scan
 * instead of one per pattern, and one regex compiled instead of dozens. It matches exactly when some
 * pattern does; the match itself is then taken pattern by pattern as before (the first pattern in file
 * order that matches). A rule with a pattern whose meaning could change inside an alternation (a
 * backreference or a named group: an alternation shares group numbers and names) or with flags of its
 * own gets no screen and is tried pattern by pattern only.
 */
const screens = new WeakMap<TypeRule, RegExp | null>();

/** Backreferences (\\1, \\k<name>) and named groups read group numbers or names, which an alternation shares. */
const GROUP_SENSITIVE = /\\[1-9k]|\(\?<[^=!]/;

function screenOf(rule: TypeRule): RegExp | null {
  let s = screens.get(rule);
  if (s === undefined) {
    s = null;
    if (rule.patterns.length > 0 && rule.patterns.every((p) => p.flags === 'i' && !GROUP_SENSITIVE.test(p.source))) {
      try {
        s = new RegExp(rule.patterns.map((p) => `(?:${p.source})`).join('|'), 'i');
      } catch {
        s = null;
      }
    }
    screens.set(rule, s);
  }
  return s;
}

/** False only when no pattern of the rule can match `text`. */
function mayMatch(rule: TypeRule, text: string): boolean {
  const screen = screenOf(rule);
  return screen === null || screen.test(text);
}

export interface TypeRules {
  file: string;
  rules: TypeRule[];
  /** Type for questions no rule matches (recorded with rule name "fallback"). */
  fallback: QuestionType;
}

export interface Classification {
  type: QuestionType;
  /** The matching rule's name, or "fallback". */
  rule: string;
  /** The text the rule matched, for explaining a result; null for the fallback. */
  matched: string | null;
}

function regexProblem(source: string): string | null {
  try {
    new RegExp(source, 'i');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const regexString = z.string().min(1).superRefine((source, ctx) => {
  const problem = regexProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${problem}` });
});

const ruleSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .refine((n) => !(RESERVED_RULE_NAMES as readonly string[]).includes(n), {
        message: `"dataset" and "fallback" are reserved rule names`,
      }),
    type: z.enum(QUESTION_TYPES),
    in: z.enum(RULE_SCOPES),
    phrases: z.array(z.string().trim().min(1)).default([]),
    regex: z.array(regexString).default([]),
  })
  .refine((r) => r.phrases.length + r.regex.length > 0, { message: 'a rule needs at least one phrase or regex' });

const rulesFileSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    fallback: z.enum(QUESTION_TYPES).default('other'),
    rules: z.array(ruleSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"; names must be unique` });
      }
      seen.add(rule.name);
    });
  });

type RulesFile = z.infer<typeof rulesFileSchema>;

/** A literal phrase as a whole-word, whitespace-tolerant regex. */
export function phraseToRegExp(phrase: string): RegExp {
  const body = phrase
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\s+');
  const start = /^\w/.test(phrase.trim()) ? '\\b' : '';
  const end = /\w$/.test(phrase.trim()) ? '\\b' : '';
  return new RegExp(`${start}${body}${end}`, 'i');
}

function compile(file: string, data: RulesFile): TypeRules {
  return {
    file,
    fallback: data.fallback,
    rules: data.rules.map((r) => ({
      name: r.name,
      type: r.type,
      in: r.in,
      patterns: [...r.phrases.map(phraseToRegExp), ...r.regex.map((source) => new RegExp(source, 'i'))],
    })),
  };
}

/** Reads and validates a rules file; problems are InputErrors naming file:line and the field. */
export async function loadTypeRules(file: string): Promise<TypeRules> {
  return parseTypeRules(await readConfigText(file, 'question-type rules'), file);
}

/** Same as loadTypeRules, from text already read (`file` is used in error messages). */
export function parseTypeRules(text: string, file: string): TypeRules {
  return compile(file, bundledRules(text) ?? parseYamlText(text, file, rulesFileSchema, 'question-type rules'));
}

/**
 * The bundled rule file's data when `text` is that file byte for byte (its sha256), else undefined: its
 * cold YAML parse is about 30-45 ms of every run's start-up. The copy is generated from the YAML
 * (scripts/write-bundled-rules.ts) and a test keeps the two equal; an edited file is parsed as YAML, and
 * so is any copy that fails validation, for the YAML path's file:line errors.
 */
function bundledRules(text: string): RulesFile | undefined {
  if (text.length !== BUNDLED_RULES.length || sha256Hex(text) !== BUNDLED_RULES.sha256) return undefined;
  const parsed = rulesFileSchema.safeParse(BUNDLED_RULES.data);
  return parsed.success ? parsed.data : undefined;
}

/** Typographic quotes and runs of whitespace made plain, so rules need not spell every variant. */
function normalise(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, ' ').trim();
}

// A sentence ends at . ! or ? followed by whitespace and a capital, digit or opening quote/bracket;
// "e.g. the" and "37.5 C" do not split.
const SENTENCE_BREAK = /[.!?]\s+(?=["'(\[]?[A-Z0-9])/g;

/**
 * The ask: the sentence that ends with the question's last "?", or the last sentence when there is
 * no "?" (fill-in stems such as "Drug of choice for absence seizures is:").
 */
export function questionAsk(question: string): string {
  return askOf(normalise(question));
}

/** The ask of an already normalised question. */
function askOf(text: string): string {
  const lastMark = text.lastIndexOf('?');
  const upTo = lastMark >= 0 ? text.slice(0, lastMark + 1) : text;
  let start = 0;
  for (const m of upTo.matchAll(SENTENCE_BREAK)) {
    // A break at the very end (the "?" itself) does not start a new sentence.
    if (m.index + m[0].length < upTo.length) start = m.index + m[0].length;
  }
  return upTo.slice(start).trim();
}

/** First matching rule wins, in file order; no match gives the fallback type. */
export function classifyQuestion(question: string, rules: TypeRules): Classification {
  const whole = normalise(question);
  const ask = askOf(whole);
  for (const rule of rules.rules) {
    const text = rule.in === 'ask' ? ask : whole;
    if (!mayMatch(rule, text)) continue;
    for (const pattern of rule.patterns) {
      const m = pattern.exec(text);
      if (m) return { type: rule.type, rule: rule.name, matched: m[0] };
    }
  }
  return { type: rules.fallback, rule: 'fallback', matched: null };
}
