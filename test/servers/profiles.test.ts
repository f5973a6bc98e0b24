// The runner profiles shipped in runners/ parse with the runners' own schemas (via the project's YAML
// reader, so an error would name file:line).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readYamlFile } from '../../src/core/yaml-config.js';
import { llamaServerProfileSchema } from '../../src/runners/llama-server.js';
import { vllmProfileSchema } from '../../src/runners/vllm.js';

const dir = fileURLToPath(new URL('../../runners/', import.meta.url));
const files = readdirSync(dir).filter((f) => /^(llama-server|vllm)-.*\.yaml$/.test(f));

describe('shipped server profiles', () => {
  it('there are attached and managed profiles for both servers', () => {
    expect(files).toEqual(expect.arrayContaining(['llama-server-attached.yaml', 'llama-server-managed.yaml', 'vllm-attached.yaml', 'vllm-r1-7b-bf16.yaml', 'vllm-r1-7b-awq.yaml']));
  });
  it.each(files)('%s is valid', async (f) => {
    const schema = f.startsWith('vllm') ? vllmProfileSchema : llamaServerProfileSchema;
    const p = await readYamlFile(dir + f, schema, 'runner profile');
    expect(p.label.length).toBeGreaterThan(0);
    if (p.mode === 'managed') expect(p.model).toBeTruthy();
    else expect(p.baseUrl).toMatch(/^http:\/\//);
  });
  it('the bf16 and AWQ profiles differ only in quantisation and dtype', async () => {
    const a = await readYamlFile(dir + 'vllm-r1-7b-bf16.yaml', vllmProfileSchema, 'p');
    const b = await readYamlFile(dir + 'vllm-r1-7b-awq.yaml', vllmProfileSchema, 'p');
    const strip = (args: string[]) => args.filter((x) => !/^--(quantization|dtype)=/.test(x));
    expect(strip(b.args)).toEqual(strip(a.args));
  });
});
