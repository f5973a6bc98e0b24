import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Hang detectors only, never a speed check: far above what the slowest test takes on a loaded 2-core box
    // (compare and kill -9/--resume: ~30 s idle, 170-240 s at load 19 on 2 cores).
    testTimeout: 600_000,
    hookTimeout: 900_000,
    // Model-loading tests are CPU-heavy on a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
