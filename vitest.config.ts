import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at once: most tests wait on spawned CLIs and servers (Dovecot, Redis), so
    // the 2-core CI machine keeps the whole run well under 10 minutes.
    maxWorkers: 2,
  },
});
