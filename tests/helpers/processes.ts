/**
 * Processes the tests start (the CLI, workers, Redis, Dovecot, Chromium) must not outlive them:
 * a worker or a coordinator left waiting on a queue keeps a CPU busy and a port open for every
 * later test, and a test that times out leaves the CLI it spawned running. Two checks:
 * `setup-processes.ts` (each test file, when it ends: its own child processes) and
 * `teardown-processes.ts` (the whole run: this checkout's CLI and the servers the helpers started).
 * A leftover is killed, then the check fails naming its command line.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly args: string;
}

/**
 * Every live process, from /proc (a minimal CI image may have no `ps`; elsewhere `ps`). Zombies
 * are left out: they have exited, only their parent has not looked yet.
 */
export function listProcesses(): ProcessInfo[] {
  if (!existsSync('/proc/self/stat')) return listWithPs();
  const list: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      list.push({ pid: Number(name), ppid: Number(ppid), args });
    } catch {
      // it ended while being read
    }
  }
  return list;
}

function listWithPs(): ProcessInfo[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const list: ProcessInfo[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || (m[3] as string).startsWith('Z')) continue;
    list.push({ pid: Number(m[1]), ppid: Number(m[2]), args: m[4] as string });
  }
  return list;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits up to `graceMs` for the processes `find` returns to end by themselves (a child killed a
 * moment ago is still exiting), then kills what is left (SIGKILL) and returns it.
 */
export async function reapLeftovers(find: () => ProcessInfo[], graceMs = 5_000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + graceMs;
  let left = find();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = find();
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return left;
}

export function describeLeftovers(what: string, left: readonly ProcessInfo[]): string {
  return `${what}: ${left.length} process(es) still running (now killed):\n${left.map((p) => `  pid ${p.pid}: ${p.args.slice(0, 300)}`).join('\n')}`;
}

/**
 * Servers the helpers start that do not stay children of the test process (Dovecot daemonizes;
 * Redis outlives a test process that is killed): one line per server in a file of this run, read
 * by the run's teardown. The run is the vitest process, every test file's parent.
 */
const registry = (runPid: number): string => path.join(os.tmpdir(), `phi-test-servers-${runPid}.txt`);

export function registerServer(server: { kind: 'redis'; pid: number } | { kind: 'dovecot'; pidFile: string }): void {
  appendFileSync(registry(process.ppid), `${JSON.stringify(server)}\n`);
}

/** The registered servers still running (Redis by pid, Dovecot by its master's pid file). */
export function registeredServersAlive(runPid: number): ProcessInfo[] {
  const file = registry(runPid);
  if (!existsSync(file)) return [];
  // A pid is only taken for the server it was when the process there still runs that program.
  const wanted = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const s = JSON.parse(line) as { kind: 'redis'; pid: number } | { kind: 'dovecot'; pidFile: string };
    if (s.kind === 'redis') wanted.set(s.pid, 'redis-server');
    else if (existsSync(s.pidFile)) wanted.set(Number(readFileSync(s.pidFile, 'utf8').trim()), 'dovecot');
  }
  return listProcesses().filter((p) => wanted.has(p.pid) && p.args.includes(wanted.get(p.pid) as string) && alive(p.pid));
}

/** Removes the run's list of servers (at the end of the run). */
export function forgetServers(runPid: number): void {
  rmSync(registry(runPid), { force: true });
}

/**
 * Stops a child the test started: `signal` (SIGTERM: a worker finishes the jobs in hand), then
 * SIGKILL if it has not exited after `graceMs`. Resolves with its exit code (null when killed
 * by a signal) once its output is closed too (what it wrote has been read), at once when it has
 * already closed.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  // After 'close' the child has exited and its pipes are destroyed: nothing more will come.
  if (exited && [child.stdin, child.stdout, child.stderr].every((s) => s === null || s.destroyed)) return child.exitCode;
  const closed = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));
  if (!exited) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await closed;
  } finally {
    clearTimeout(timer);
  }
}
