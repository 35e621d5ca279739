import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    setupFiles: ['test/setup-env.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The long end-to-end and fault files mostly wait on real time (outages, leases, polls), so two
    // workers halve the wall time on a 2-core machine; vitest's default here would be one.
    maxWorkers: 2,
  },
});
