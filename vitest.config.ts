import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Two files run at once (below): a CLI-heavy test can take twice its solo time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at once: most tests wait on spawned CLIs and servers (Dovecot, Redis), so
    // the 2-core CI machine keeps the whole run well under 10 minutes.
    maxWorkers: 2,
  },
});
