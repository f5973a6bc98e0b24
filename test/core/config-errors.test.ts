// Config errors name the line of the offending key (not its parent mapping, not line 1) and suggest the
// nearest valid key, for every config file kind: suite, runner profile, experiment, claims.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputErrors } from '../../src/core/errors.js';
import { nearestName } from '../../src/core/nearest-name.js';
import { loadExperiment } from '../../src/run/experiment.js';
import { loadSuite } from '../../src/run/suite.js';
import { loadClaims } from '../../src/report/claims.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

/** A bundled config with the line that starts `from` (after indentation) rewritten; returns the file and that line's number. */
function withTypo(bundled: string, from: string, to: string): { file: string; line: number } {
  const lines = readFileSync(join(REPO, bundled), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.trimStart().startsWith(from));
  expect(i, `${bundled} has a line starting ${from}`).toBeGreaterThanOrEqual(0);
  lines[i] = lines[i]!.replace(from, to);
  const file = join(tempDir('medeval-config-'), bundled.split('/').pop()!);
  writeFileSync(file, lines.join('\n'));
  return { file, line: i + 1 };
}

async function problems(load: () => Promise<unknown>): Promise<string[]> {
  const e = await load().then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(InputErrors);
  return (e as InputErrors).problems.map((p) => p.message);
}

describe('config errors at the key, with the nearest valid key', () => {
  it('suite: a typo inside sampling: is reported at its own line, not the line of sampling:', async () => {
    const { file, line } = withTypo('suites/medqa-usmle.yaml', 'topP:', 'top_pp:');
    const sampling = readFileSync(file, 'utf8').split('\n').indexOf('sampling:') + 1;
    expect(line).toBeGreaterThan(sampling + 1);
    expect(await problems(() => loadSuite(file))).toEqual([`${file}:${line} field "sampling.top_pp": unknown key "top_pp" (did you mean "topP"?)`]);
  });

  it('suite: a top-level typo is at its line, not line 1; a wrong enum value suggests the nearest value', async () => {
    const { file, line } = withTypo('suites/medqa-usmle.yaml', 'samples:', 'sample:');
    expect(line).toBeGreaterThan(1);
    const msgs = await problems(() => loadSuite(file));
    expect(msgs).toEqual([`${file}:${line} field "sample": unknown key "sample" (did you mean "samples"?)`]);

    const bad = withTypo('suites/medqa-usmle.yaml', 'profile: sequential', 'profile: sequental');
    expect((await problems(() => loadSuite(bad.file)))[0]).toMatch(new RegExp(`:${bad.line} field "load.profile": .*\\(did you mean "sequential"\\?\\)$`));
  });

  it('runner profile: the options of its own kind are the ones suggested', async () => {
    const { file, line } = withTypo('runners/llama-server-attached.yaml', 'retries:', 'retrys:');
    expect(await problems(() => loadRunnerProfile(file))).toEqual([`${file}:${line} field "retrys": unknown key "retrys" (did you mean "retries"?)`]);
    const kind = withTypo('runners/llama-server-attached.yaml', 'kind: llama-server', 'kind: llama-servr');
    expect((await problems(() => loadRunnerProfile(kind.file)))[0]).toMatch(new RegExp(`:${kind.line} field "kind": .*\\(did you mean "llama-server"\\?\\)$`));
  });

  it('experiment file and its claims section', async () => {
    const top = withTypo('suites/paper.yaml', 'order:', 'ordr:');
    expect(await problems(() => loadExperiment(top.file))).toEqual([`${top.file}:${top.line} field "ordr": unknown key "ordr" (did you mean "order"?)`]);
    const claim = withTypo('suites/paper.yaml', 'tolerancePoints: 2             #', 'tolerancePoint: 2             #');
    const msgs = await problems(() => loadClaims(claim.file));
    expect(msgs).toContain(`${claim.file}:${claim.line} field "claims.0.tolerancePoint": unknown key "tolerancePoint" (did you mean "tolerancePoints"?)`);
  });

  it('a key near nothing gets no guess but the list of valid keys', async () => {
    const { file, line } = withTypo('suites/medqa-usmle.yaml', 'topP:', 'nucleus:');
    const [msg] = await problems(() => loadSuite(file));
    expect(msg).toBe(`${file}:${line} field "sampling.nucleus": unknown key "nucleus"\n  hint: valid keys here: temperature, topP, topK, minP, maxTokens, stop`);
  });

  it('nearestName: close spellings only, case and separators ignored', () => {
    expect(nearestName('max_tokens', ['maxTokens', 'topP'])).toBe('maxTokens');
    expect(nearestName('tempreature', ['temperature', 'topP'])).toBe('temperature');
    expect(nearestName('seed', ['speed', 'need'])).toBe('speed');
    expect(nearestName('mode', ['kind', 'label'])).toBeUndefined();
    expect(nearestName('x', ['y'])).toBeUndefined();
  });
});
