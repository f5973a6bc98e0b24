// Multi-GPU vLLM memory on recorded nvidia-smi outputs (4 x 80 GB GPUs): tensor parallel 2 under the Ray
// executor on CUDA_VISIBLE_DEVICES=2,3 with another job on GPUs 0 and 1 (Ray's workers hold the memory and
// are not children of `vllm serve`: per-process attribution sees 0), and tensor 2 x pipeline 2 on all four
// with one GPU reporting [N/A]. Attribution is by the GPUs the server was given, each shown, summed.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignedGpus, DeviceMemoryTracker, needsDeviceAttribution, parallelSizes } from '../../src/metrics/gpu-attribution.js';
import { ProcessTreeSampler, serverMemoryReport } from '../../src/metrics/memory-probe.js';
import { NvidiaSmi, parseComputeApps, parseGpuMemory } from '../../src/metrics/nvidia-smi.js';
import { deviceTrackerFor } from '../../src/runners/vllm.js';
import { tempDir } from '../helpers/tiny-run.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/servers/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

/** A stand-in nvidia-smi printing a recorded --query-gpu output (and the compute apps for the other query). */
function fakeSmi(gpuFixture: string, appsFixture = 'nvidia-smi-apps-empty.txt'): NvidiaSmi {
  const dir = tempDir('medeval-smi-');
  const bin = join(dir, 'nvidia-smi');
  writeFileSync(join(dir, 'gpu.txt'), fx(gpuFixture));
  writeFileSync(join(dir, 'apps.txt'), fx(appsFixture));
  writeFileSync(bin, `#!/bin/sh\ncase "$1" in --query-gpu=*) cat "${dir}/gpu.txt" ;; *) cat "${dir}/apps.txt" ;; esac\n`);
  chmodSync(bin, 0o755);
  return new NvidiaSmi(bin);
}

describe('parallel sizes from vllm serve arguments', () => {
  it('reads --flag N, --flag=N and the short forms; 1 when absent', () => {
    expect(parallelSizes(['--tensor-parallel-size', '2', '--pipeline-parallel-size=2'])).toEqual({ tensor: 2, pipeline: 2, data: 1, ray: false });
    expect(parallelSizes(['-tp', '4', '-dp', '2', '--distributed-executor-backend', 'ray'])).toEqual({ tensor: 4, pipeline: 1, data: 2, ray: true });
    expect(parallelSizes(['--distributed-executor-backend=mp'])).toEqual({ tensor: 1, pipeline: 1, data: 1, ray: false });
    expect(needsDeviceAttribution(parallelSizes([]))).toBe(false);
    expect(needsDeviceAttribution(parallelSizes(['--distributed-executor-backend', 'ray']))).toBe(true);
    expect(needsDeviceAttribution(parallelSizes(['--data-parallel-size', '2']))).toBe(true);
  });
});

describe('the GPUs a server was given', () => {
  const four = parseGpuMemory(fx('nvidia-smi-gpu-four-before.txt'));
  it('CUDA_VISIBLE_DEVICES first, else the first tensor x pipeline x data GPUs', () => {
    expect(assignedGpus(parallelSizes(['-tp', '2']), '2,3', four)).toMatchObject({ indexes: [2, 3], elsewhere: 0 });
    expect(assignedGpus(parallelSizes(['-tp', '2', '-pp', '2']), undefined, four)).toMatchObject({ indexes: [0, 1, 2, 3] });
    // Ray across nodes: 8 asked, 4 here; the other 4 are said to be unmeasured.
    expect(assignedGpus(parallelSizes(['-tp', '8', '--distributed-executor-backend', 'ray']), undefined, four)).toMatchObject({ indexes: [0, 1, 2, 3], elsewhere: 4 });
    expect(assignedGpus(parallelSizes(['-tp', '2']), 'GPU-5f1c2a3e-0000,GPU-77aa', four)).toMatch(/UUID/);
    expect(assignedGpus(parallelSizes(['-tp', '2']), '6,7', four)).toMatch(/6, 7, which nvidia-smi does not list/);
  });
});

describe('GPU memory attributed by device', () => {
  it('Ray, tensor parallel 2 on GPUs 2,3 beside another job: each GPU shown, summed; per-process attribution misses the Ray workers', async () => {
    const why: string[] = [];
    const tracker = (await deviceTrackerFor(['--tensor-parallel-size', '2', '--distributed-executor-backend', 'ray'], fakeSmi('nvidia-smi-gpu-four-before.txt'),
      (n) => why.push(n), { CUDA_VISIBLE_DEVICES: '2,3' }))!;
    expect(why).toEqual([]);
    expect(tracker.assignment.indexes).toEqual([2, 3]);
    // The sampler of the `vllm serve` tree (pid 31337 only: Ray's workers 41001/41002 are the raylet's children).
    const sampler = new ProcessTreeSampler(process.pid, { nvidiaSmi: new NvidiaSmi(null), devices: tracker });
    sampler.recordGpu(parseComputeApps(fx('nvidia-smi-apps-ray-tp2.txt')), new Set([31337]));
    tracker.record(parseGpuMemory(fx('nvidia-smi-gpu-four-ray-tp2.txt')));
    tracker.record(parseGpuMemory(fx('nvidia-smi-gpu-four-before.txt'))); // later, lower: the peak stays
    const fig = sampler.gpuFigure();
    // (71242 - 4) + (71238 - 4) MiB: the two GPUs it was given, less what they held before; GPUs 0 and 1 (the other job) left out.
    expect(fig.bytes).toBe((71238 + 71234) * MIB);
    expect(fig.source).toMatch(/attribution: devices/);
    expect(fig.note).toContain('GPU2 69.57 GiB of 80.00 GiB, GPU3 69.56 GiB of 80.00 GiB');
    expect(fig.note).toContain('CUDA_VISIBLE_DEVICES=2,3');
    expect(fig.note).toContain('per-process attribution (the server\'s process tree) saw 0 B');
    const report = await serverMemoryReport({
      mode: 'managed', sampler, smi: new NvidiaSmi(null), weights: { bytes: 1, source: 'x' }, context: { bytes: null, source: 'x' },
    });
    expect(report.gpuDevices).toEqual({
      attribution: 'devices',
      how: tracker.assignment.how,
      devices: [{ index: 2, peakBytes: 71238 * MIB, totalBytes: 81920 * MIB }, { index: 3, peakBytes: 71234 * MIB, totalBytes: 81920 * MIB }],
    });
    expect(report.gpuProcessPeak!.bytes).toBe((71238 + 71234) * MIB);
  });

  it('tensor 2 x pipeline 2 on all four GPUs, one reporting [N/A]: the others summed, the missing one shown as such', () => {
    const assignment = assignedGpus(parallelSizes(['-tp', '2', '-pp', '2']), undefined, parseGpuMemory(fx('nvidia-smi-gpu-four-idle.txt')));
    if (typeof assignment === 'string') throw new Error(assignment);
    const tracker = new DeviceMemoryTracker(assignment, parseGpuMemory(fx('nvidia-smi-gpu-four-idle.txt')));
    tracker.record(parseGpuMemory(fx('nvidia-smi-gpu-four-tp2-pp2.txt')));
    const fig = tracker.figure();
    expect(fig.bytes).toBe((66107 + 66099 + 65891) * MIB);
    expect(fig.note).toContain('GPU3 [N/A] of 80.00 GiB');
    expect(fig.note).toContain('CUDA_VISIBLE_DEVICES unset: the first 4 GPU(s) (tensor 2 x pipeline 2 x data 1)');
  });

  it('one GPU and no Ray: per-process attribution, no tracker; GPUs by UUID: per process, and the figure says why', async () => {
    expect(await deviceTrackerFor(['--max-model-len', '8192'], fakeSmi('nvidia-smi-gpu-four-before.txt'), () => {})).toBeNull();
    const why: string[] = [];
    expect(await deviceTrackerFor(['-tp', '2'], fakeSmi('nvidia-smi-gpu-four-before.txt'), (n) => why.push(n), { CUDA_VISIBLE_DEVICES: 'GPU-5f1c2a3e,GPU-77aa01' })).toBeNull();
    expect(why[0]).toMatch(/UUID.*Ray workers .* are then missed/);
    const none: string[] = [];
    expect(await deviceTrackerFor(['-tp', '2'], new NvidiaSmi(null), (n) => none.push(n))).toBeNull();
    expect(none[0]).toMatch(/2 GPU\(s\) asked, but not available: no nvidia-smi/);
  });
});
