/**
 * The built modules (dist/, compiled by `npm test` first) loaded into the test's own process:
 * worker threads run compiled files only, so tests of threads import these, and count this
 * process's threads to see which started.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './cli.js';

/** `built<typeof import('../../src/x/y.js')>('x/y.js')`: the compiled module of that source file. */
export const built = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(ROOT, 'dist', file)).href) as Promise<T>;

/** Threads of this process (Linux): a worker thread is one more. */
export const threadsNow = (): number => readdirSync('/proc/self/task').length;
