// The full chaos run only (`npm run test:chaos`): test/chaos/*.chaos.ts, which `npm test`'s
// include (test/**/*.test.ts) never matches. Same setup as vitest.config.ts, and room for a run
// of several minutes.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    setupFiles: ['test/setup-env.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
