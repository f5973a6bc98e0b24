// Every YAML file we ship must load: a user copies these first.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../../src/run/experiment.js';
import { loadSuite } from '../../src/run/suite.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO } from '../helpers/tiny-run.js';

const yamlIn = (dir: string) => readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.yaml')).map((f) => join(REPO, dir, f));

describe('bundled configuration files', () => {
  it('every runner profile in runners/ validates', async () => {
    const files = yamlIn('runners');
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const { profile } = await loadRunnerProfile(f);
      expect(profile.label.length, f).toBeGreaterThan(0);
    }
  });

  it('every suite in suites/ validates (paper.yaml is an experiment file)', async () => {
    for (const f of yamlIn('suites').filter((f) => !f.endsWith('paper.yaml'))) {
      const s = await loadSuite(f);
      expect(s.promptsDir).toBe(join(REPO, 'suites/prompts'));
    }
  });

  it("the paper's experiment file names a suite, two runner profiles and the three claims", async () => {
    const e = await loadExperiment(join(REPO, 'suites/paper.yaml'));
    expect(e.claims.map((c) => c.id)).toEqual(['accuracy', 'memory', 'latency']);
    expect(e.claims.map((c) => c.claimedPercent)).toEqual([92.1, 64.7, 12.4]);
    expect(e.suite).toBe(join(REPO, 'suites/medqa-usmle.yaml'));
    await loadSuite(e.suite);
  });
});
