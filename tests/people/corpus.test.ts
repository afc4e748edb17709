/**
 * Breach sizing in people against a corpus with known identities (fixtures/people.ts): every
 * mailbox and the tenant-wide count within ±5 % without a roster and ±0.5 % with an EDM roster;
 * a rescan and a --since-last scan never count a person twice; a scan killed and resumed gives
 * the clean scan's figures; and no planted value reaches the EDM file, the state DB or a report.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePeopleCorpus, type PeopleCorpus } from '../../fixtures/people.js';
import { CLI, TEST_KEY, runCli, tempDir } from '../helpers/cli.js';

interface Parts {
  roster: number;
  direct: number;
  nameDob: number;
  dobOnly: number;
}
interface Report {
  totals: { individuals: number; estimatedIndividuals: number; people: Parts; overThreshold: boolean; explanation: Record<string, unknown> };
  mailboxes: { mailbox: string; individuals: number; people: Parts }[];
}

const MAILBOXES = ['billing', 'intake', 'dispatch', 'nurse', 'ceo'];
let dir: string;
let corpus: PeopleCorpus;
let sources: string[];

const within = (reported: number, truth: number, band: number): boolean => Math.abs(reported - truth) <= band * truth;

async function report(state: string, format = 'json'): Promise<string> {
  const r = await runCli(['report', '--format', format, '--state', state]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function scan(state: string, extra: string[] = [], srcs = sources): Promise<void> {
  const r = await runCli(['scan', ...srcs, '--state', state, '--format', 'jsonl', '--threads', '0', ...extra]);
  expect([0, 1], r.stderr).toContain(r.code);
}

function byMailbox(r: Report): Record<string, number> {
  return Object.fromEntries(r.mailboxes.map((m) => [m.mailbox, m.individuals]));
}

beforeAll(() => {
  dir = tempDir('phi-people-');
  corpus = generatePeopleCorpus(dir);
  sources = MAILBOXES.map((m) => `mbox:${path.join(dir, 'mail', `${m}.mbox`)}`);
});

describe('people: counts against the truth', () => {
  let clean: Report;
  let state: string;

  beforeAll(async () => {
    state = tempDir('phi-people-state-');
    await scan(state);
    clean = JSON.parse(await report(state)) as Report;
  }, 240_000);

  it('every mailbox and the tenant within ±5 % without a roster', () => {
    const reported = byMailbox(clean);
    for (const mb of MAILBOXES) {
      const truth = corpus.truth.mailboxes[mb] as number;
      expect(within(reported[mb] ?? 0, truth, 0.05), `${mb}: reported ${reported[mb]} vs true ${truth}`).toBe(true);
    }
    expect(within(clean.totals.individuals, corpus.truth.tenant, 0.05)).toBe(true);
    // The parts add up, and the json explains the count by clusters and what linked them.
    const p = clean.totals.people;
    expect(p.roster + p.direct + p.nameDob).toBe(clean.totals.individuals);
    expect(p.nameDob).toBeGreaterThan(0);
    expect(clean.totals.explanation).toMatchObject({ counted: clean.totals.individuals });
    expect((clean.totals.explanation.sharedKeys as Record<string, number>).nameDob).toBeGreaterThan(0);
    expect(clean.totals.explanation.acrossMailboxes as number).toBeGreaterThan(0);
  });

  it('a roster of many rows, a thread quoting two patients, a HICN with its SSN, and one person in two mailboxes', () => {
    const reported = byMailbox(clean);
    // Exact where nothing is hidden from a scan without a roster.
    expect(reported.dispatch).toBe(corpus.truth.mailboxes.dispatch);
    expect(reported.nurse).toBe(corpus.truth.mailboxes.nurse);
    expect(reported.ceo).toBe(corpus.truth.mailboxes.ceo);
    // People in two mailboxes are counted once tenant-wide.
    const sum = Object.values(reported).reduce((n, x) => n + x, 0);
    expect(clean.totals.individuals).toBeLessThan(sum);
  });

  it('a rescan of everything and a --since-last scan count no one twice', async () => {
    await scan(state);
    await scan(state, ['--since-last']);
    const again = JSON.parse(await report(state)) as Report;
    expect(byMailbox(again)).toEqual(byMailbox(clean));
    expect(again.totals.people).toEqual(clean.totals.people);
  }, 240_000);

  it('a scan killed with SIGKILL, then resumed with --since-last, equals one clean scan', async () => {
    const killed = tempDir('phi-people-kill-');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'scan', ...sources, '--state', killed, '--format', 'jsonl', '--threads', '0', '--since-last'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let seen = 0;
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString().split('"type":"message"').length - 1;
        // Well into the scan: some mailboxes done, others not.
        if (seen >= 30) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', () => resolve());
    });
    await scan(killed, ['--since-last']);
    const resumed = JSON.parse(await report(killed)) as Report;
    expect(byMailbox(resumed)).toEqual(byMailbox(clean));
    expect(resumed.totals.people).toEqual(clean.totals.people);
  }, 240_000);
});

describe('people: with an EDM roster', () => {
  let state: string;
  let edm: string;
  let withRoster: Report;
  let build: { code: number | null; stderr: string };

  beforeAll(async () => {
    state = tempDir('phi-people-edm-');
    edm = path.join(dir, 'roster.edm');
    build = await runCli(['edm', 'build', path.join(dir, 'roster.csv'), '--columns', 'ssn,mbi,member_id,last_name,first_name,dob', '--out', edm, '--state', state]);
    await scan(state, ['--edm', edm]);
    withRoster = JSON.parse(await report(state)) as Report;
  }, 240_000);

  it('every mailbox and the tenant within ±0.5 %, people counted by roster row', () => {
    expect(build.code, build.stderr).toBe(0);
    const reported = byMailbox(withRoster);
    for (const mb of MAILBOXES) {
      const truth = corpus.truth.mailboxes[mb] as number;
      expect(within(reported[mb] ?? 0, truth, 0.005), `${mb}: reported ${reported[mb]} vs true ${truth}`).toBe(true);
    }
    expect(within(withRoster.totals.individuals, corpus.truth.tenant, 0.005)).toBe(true);
    expect(withRoster.totals.people.roster).toBe(withRoster.totals.individuals);
  });

  it('a bare unlabelled SSN on the roster is a high-confidence finding that names its roster line', async () => {
    const records = (await report(state, 'jsonl'))
      .split('\n')
      .filter((l) => l.includes('"type":"finding"'))
      .map((l) => JSON.parse(l) as { rule: string; confidence: string; rosterRow?: number; mailbox: string; messageId: string });
    // The ledger questions: one SSN each, dashed (an SSN shape the engine rates low) or nine bare digits (no rule's).
    const ledger = records.filter((f) => f.mailbox === 'billing' && f.rule.endsWith('ssn') && records.filter((g) => g.messageId === f.messageId).length === 1);
    expect(ledger.length).toBe(corpus.truth.rosterOnly.billing);
    expect(ledger.some((f) => f.rule === 'edm-ssn')).toBe(true);
    for (const f of ledger) {
      expect(f.confidence).toBe('high');
      expect(f.rosterRow).toBeGreaterThan(1);
    }
  });

  it('leaks no planted value: not in the EDM file, the state DB, or any report format', async () => {
    const planted = new Set<string>();
    for (const p of corpus.patients.slice(0, 263)) {
      planted.add(p.ssn);
      planted.add(p.ssn.replace(/-/g, ''));
      planted.add(p.mbi);
      planted.add(p.memberId);
      planted.add(p.dob);
      planted.add(`${p.first} ${p.last}`);
      planted.add(p.last);
    }
    const outputs: [string, Buffer][] = [['edm', readFileSync(edm)]];
    for (const f of readdirSync(state)) if (f.startsWith('state.db')) outputs.push([f, readFileSync(path.join(state, f))]);
    for (const format of ['json', 'jsonl', 'csv', 'html', 'table']) outputs.push([format, Buffer.from(await report(state, format))]);
    expect(existsSync(path.join(state, 'state.db'))).toBe(true);
    for (const [name, bytes] of outputs) {
      const text = bytes.toString('latin1');
      for (const v of planted) expect(text.includes(v), `${name} holds a planted value`).toBe(false);
    }
  }, 120_000);
});
