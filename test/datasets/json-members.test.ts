import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topLevelMembers } from '../../src/datasets/json-members.js';

const space = fc.constantFrom('', ' ', '\n', '\r\n', '\t', '\n    ');

describe('topLevelMembers', () => {
  it('gives the keys in file order (integer-like ones too), each value and the line of its key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.oneof(fc.nat().map(String), fc.string()), fc.jsonValue()), { selector: ([k]) => k, maxLength: 8 }),
        fc.array(space, { minLength: 40, maxLength: 40 }),
        (pairs, ws) => {
          const w = (i: number) => ws[i % ws.length]!;
          let text = `${w(0)}{${w(1)}`;
          const lines: number[] = [];
          pairs.forEach(([k, v], i) => {
            if (i > 0) text += `${w(i + 2)},${w(i + 3)}`;
            lines.push(text.split('\n').length);
            text += `${JSON.stringify(k)}${w(i + 4)}:${w(i + 5)}${JSON.stringify(v, null, i % 2 ? 2 : undefined)}`;
          });
          text += `${w(39)}}${w(38)}`;
          JSON.parse(text); // the scanner's precondition: valid JSON
          const members = topLevelMembers(text);
          expect(members.map((m) => m.key)).toEqual(pairs.map(([k]) => k));
          expect(members.map((m) => JSON.parse(text.slice(m.start, m.end)))).toEqual(pairs.map(([, v]) => JSON.parse(JSON.stringify(v))));
          expect(members.map((m) => m.line)).toEqual(lines);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps repeated keys, which JSON.parse collapses', () => {
    const text = '{"2": 1, "1": {"2": "}"}, "2": [3]}';
    expect(topLevelMembers(text).map((m) => [m.key, text.slice(m.start, m.end)])).toEqual([
      ['2', '1'],
      ['1', '{"2": "}"}'],
      ['2', '[3]'],
    ]);
  });
});
