// The README's table of contents points at headings that exist, and its "Reading the report" section
// defines every verdict word and names every memory part the reports print.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERDICT_DEFINITIONS } from '../../src/report/claims.js';
import { MEMORY_PARTS, MEMORY_TABLE } from '../../src/metrics/table.js';
import { REPO } from '../helpers/tiny-run.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** GitHub's heading anchor: lower case, punctuation but '-' and '_' dropped, spaces to '-'. */
export function githubSlug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function headings(md: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.push(githubSlug(m[1]!));
  }
  return out;
}

function section(md: string, title: string): string {
  const start = md.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const end = md.indexOf('\n## ', start + 4);
  return md.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('keeps the two newcomer commands first', () => {
    expect(README.split('\n').slice(0, 6).join('\n')).toMatch(/^# medeval\n\n```sh\nnpm start .*\nnpm test .*\n```$/);
  });

  it('has a table of contents whose links all reach a heading', () => {
    const contents = README.split('\n').find((l) => l.startsWith('**Contents:**'));
    expect(contents).toBeDefined();
    const slugs = new Set(headings(README));
    const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((l) => !slugs.has(l))).toEqual([]);
  });

  it('slugs as GitHub does', () => {
    expect(githubSlug('What `npm start` does')).toBe('what-npm-start-does');
    expect(githubSlug('Suites, datasets and prompts')).toBe('suites-datasets-and-prompts');
  });

  it('"Reading the report" defines every verdict and names every memory part', () => {
    const reading = section(README, 'Reading the report');
    expect(reading).not.toBe('');
    for (const [verdict] of VERDICT_DEFINITIONS) expect(reading).toContain(`| ${verdict} |`);
    for (const part of MEMORY_PARTS) {
      const name = MEMORY_TABLE[part].long.replace(/ \(.*\)$/, '');
      expect(reading, name).toContain(`| ${name} |`);
    }
    for (const word of ['Wilson', 'bootstrap', 'paired', 'Flips', 'smoke test']) expect(reading).toContain(word);
  });
});
