import { describe, expect, it } from 'vitest';
import { queueProgressLine } from '../../src/queue/coordinator.js';

describe('queue progress line', () => {
  it('says how many of the scan\'s jobs are written, counts waiting, prioritized and delayed (retries) as queued, and rates messages across workers', () => {
    expect(queueProgressLine({ waiting: 3, prioritized: 1, delayed: 2, active: 4, completed: 10, failed: 1 }, 12_500, 5_000, { written: 7, jobs: 63 })).toBe(
      'queue: 7 of 63 jobs written · 6 queued, 4 active, 10 done, 1 failed · 12,500 messages, 2500 msg/s across workers',
    );
  });
  it('starts at zero without dividing by zero', () => {
    expect(queueProgressLine({}, 0, 0, { written: 0, jobs: 0 })).toBe('queue: 0 of 0 jobs written · 0 queued, 0 active, 0 done, 0 failed · 0 messages, 0 msg/s across workers');
  });
});
