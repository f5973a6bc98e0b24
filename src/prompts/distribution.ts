// How a set of questions spreads over the question types, and which rule put each one there: what
// `medeval classify` prints so users can check and edit the rules on their own data.
import { QUESTION_TYPES, type QuestionType } from '../core/types.js';
import { classifyQuestion, type Classification, type TypeRules } from './classify.js';

export interface RuleCount {
  rule: string;
  count: number;
}

export interface TypeCount {
  type: QuestionType;
  count: number;
  /** The rules that gave this type, most used first (ties by rule-file order). */
  rules: RuleCount[];
}

export interface TypeDistribution {
  total: number;
  /** Every type, in QUESTION_TYPES order, zero counts included. */
  types: TypeCount[];
  /** Questions no rule matched (they got the rules file's fallback type). */
  fallback: number;
}

export function typeDistribution(questions: Iterable<string>, rules: TypeRules): { distribution: TypeDistribution; each: Classification[] } {
  const each: Classification[] = [];
  const byType = new Map<QuestionType, Map<string, number>>(QUESTION_TYPES.map((t) => [t, new Map()]));
  for (const question of questions) {
    const c = classifyQuestion(question, rules);
    each.push(c);
    const counts = byType.get(c.type)!;
    counts.set(c.rule, (counts.get(c.rule) ?? 0) + 1);
  }
  const order = new Map(rules.rules.map((r, i) => [r.name, i]));
  const rank = (rule: string) => order.get(rule) ?? Number.MAX_SAFE_INTEGER;
  const types = QUESTION_TYPES.map((type) => {
    const rulesUsed = [...byType.get(type)!].map(([rule, count]) => ({ rule, count }))
      .sort((a, b) => b.count - a.count || rank(a.rule) - rank(b.rule));
    return { type, count: rulesUsed.reduce((n, r) => n + r.count, 0), rules: rulesUsed };
  });
  return { distribution: { total: each.length, types, fallback: each.filter((c) => c.rule === 'fallback').length }, each };
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0.0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** The distribution as aligned text lines: one line per type, its rules indented under it. */
export function formatTypeDistribution(d: TypeDistribution, rulesFile: string): string {
  const lines = [`${d.total} questions, classified by ${rulesFile}`, ''];
  const width = Math.max(...d.types.flatMap((t) => [t.type.length, ...t.rules.map((r) => r.rule.length + 2)]));
  for (const t of d.types) {
    lines.push(`${t.type.padEnd(width)}  ${String(t.count).padStart(6)}  ${percent(t.count, d.total).padStart(6)}`);
    for (const r of t.rules) lines.push(`  ${r.rule.padEnd(width - 2)}  ${String(r.count).padStart(6)}  ${percent(r.count, d.total).padStart(6)}`);
  }
  lines.push('', `fallback (no rule matched): ${d.fallback} of ${d.total} (${percent(d.fallback, d.total)})`);
  return `${lines.join('\n')}\n`;
}
