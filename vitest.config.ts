import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest test files (measured on the 2-core machine, longest first). They start first, so
 * the two workers end together on short files, instead of one worker starting a minute-long file
 * when the other is done. Vitest orders by the durations of the last run when it has them, and by
 * file size otherwise (a fresh clone, CI): neither is this. Order only: a file missing here runs
 * after these, a stale entry costs some balance, never a test.
 */
const LONGEST_FIRST = [
  'tests/graph/graph.test.ts',
  'tests/remediate/imap.test.ts',
  'tests/pipeline/pool.test.ts',
  'tests/sources/pst.test.ts',
  'tests/queue/queue.test.ts',
  'tests/sources/imap.test.ts',
  'tests/cli/contract.test.ts',
  'tests/remediate/progress.test.ts',
  'tests/leak-names.test.ts',
  'tests/remediate/graph.test.ts',
  'tests/cli/suppress.test.ts',
  'tests/leak.test.ts',
  'tests/sources/large-mbox.test.ts',
  'tests/sinks/html-chromium.test.ts',
  'tests/state/crash.test.ts',
  'tests/remediate/vanished.test.ts',
  'tests/cli/run-outcome.test.ts',
  'tests/queue/imap.test.ts',
  'tests/remediate/archive.test.ts',
  'tests/leak-files.test.ts',
  'tests/engine/prescan.test.ts',
  'tests/queue/jobs.test.ts',
  'tests/corpora.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.indexOf(path.relative(f.project.config.root, f.moduleId).split(path.sep).join('/'));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // The base order (last run's durations, or size) for the rest; Array.sort is stable.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
    // No process a test starts outlives it: each file's own children when it ends, and this
    // checkout's CLI and the helpers' servers when the run ends (tests/helpers/processes.ts).
    setupFiles: ['tests/helpers/setup-processes.ts'],
    globalSetup: ['tests/helpers/teardown-processes.ts'],
  },
});
