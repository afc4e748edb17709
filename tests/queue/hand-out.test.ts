/**
 * How many jobs the coordinator hands out (src/queue/coordinator.ts jobsToHandOut): the next job
 * the output needs always; more while fewer than 4 wait and Redis has room under the budget for
 * the results of every job out and not finished, each as large as the largest seen so far.
 * (tests/queue/queue.test.ts runs the hand-out against a real Redis.)
 */
import { describe, expect, it } from 'vitest';
import { jobsToHandOut } from '../../src/queue/coordinator.js';

const MB = 1024 * 1024;

describe('jobs handed out at once', () => {
  it.each([
    // nextNeeded, waiting, running, memory MB, budget MB, results MB per job seen, jobs to hand out
    [true, 0, 0, 10, 1024, 0, 4, 'nothing seen yet, room: up to 4 waiting'],
    [false, 3, 2, 10, 1024, 0, 1, 'three waiting: one more'],
    [false, 4, 2, 10, 1024, 0, 0, 'four waiting: none'],
    [false, 0, 0, 1100, 1024, 0, 0, 'over the budget: none'],
    [true, 0, 0, 1100, 1024, 0, 1, 'over the budget, the output needs the next job: that one'],
    [true, 0, 0, 0, 0, 0, 1, 'a budget of 0: one job at a time'],
    [false, 0, 4, 100, 1024, 96, 4, '4 running jobs of 96 MB, 100 MB used: room for 5 more, capped at 4 waiting'],
    [false, 0, 4, 400, 1024, 96, 2, '400 MB used, 4 running of 96 MB: room for 2 more'],
    [false, 1, 4, 600, 1024, 96, 0, '600 MB used, 5 out of 96 MB: none'],
    [true, 1, 4, 600, 1024, 96, 1, 'no room, the output needs the next job: that one'],
    [false, 0, 0, 1000, 1024, 96, 0, 'less room left than one job needs: none'],
  ])('next needed %s, %i waiting, %i running, %i of %i MB used, %i MB a job: %i (%s)', (nextNeeded, waiting, running, memory, budget, perJob, expected) => {
    expect(jobsToHandOut({ nextNeeded, waiting, running, memoryBytes: memory * MB, budgetBytes: budget * MB, resultBytesPerJob: perJob * MB })).toBe(expected);
  });
});
