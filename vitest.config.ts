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
    // No process a test starts outlives it: each file's own children when it ends, and this
    // checkout's CLI and the helpers' servers when the run ends (tests/helpers/processes.ts).
    setupFiles: ['tests/helpers/setup-processes.ts'],
    globalSetup: ['tests/helpers/teardown-processes.ts'],
  },
});
