/**
 * A stand-in for readpst in tests of large, many-folder PSTs: nothing here writes PST files, so
 * the stand-in "expands" a real PST fixture (copied, so its header and identity are real) into
 * a synthetic folder tree laid out as readpst lays one out, and counts its runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Folders of the synthetic store, below its root folder, as readpst names them. */
const FOLDERS = ['Inbox', 'Inbox/Referrals', 'Sent Items', 'Deleted Items', 'Archive/2023'];

/** Synthetic messages (made-up SSNs and dates of birth), spread over the folders; some without a Message-ID. */
export function writeTree(dir: string, count: number): void {
  const root = path.join(dir, 'Personal Folders');
  for (let i = 0; i < count; i++) {
    const folder = FOLDERS[(i * 7) % FOLDERS.length] as string;
    const where = path.join(root, folder);
    mkdirSync(where, { recursive: true });
    const lines = ['From: clinic@example.org', 'To: billing@example.org', `Subject: note ${i}`, 'Date: Mon, 4 Mar 2024 09:15:00 +0000', 'MIME-Version: 1.0'];
    // Some without a Message-ID: their names are hashes of their bytes (stable boundaries matter).
    if (i % 6 !== 0) lines.push(`Message-ID: <p${i}@pst-ranges.test>`);
    lines.push('Content-Type: text/plain; charset=utf-8', '');
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    if (i % 5 === 0) lines.push(`DOB: 03/${String(1 + (i % 28)).padStart(2, '0')}/19${50 + (i % 40)}`);
    for (let j = 0; j < (i * 11) % 37; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    writeFileSync(path.join(where, `${Math.floor(i / FOLDERS.length) + 1}.eml`), `${lines.join('\r\n')}\r\n`);
    if (i % 17 === 0) {
      writeFileSync(path.join(where, `${Math.floor(i / FOLDERS.length) + 1}-c.vcf`), `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Card ${i}\r\nREV:2024-01-01T00:00:00Z\r\nEND:VCARD\r\n`);
    }
  }
}

/** A readpst stand-in: `-V` succeeds; else copies TREE into the `-o` folder and appends a line to RUNS. */
export function writeFakeReadpst(dir: string, tree: string, runs: string): string {
  const bin = path.join(dir, 'readpst');
  writeFileSync(
    bin,
    ['#!/bin/sh', '[ "$1" = "-V" ] && exit 0', 'out=""', 'while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done', `echo run >> '${runs}'`, `cp -R '${tree}/.' "$out/"`, ''].join('\n'),
    { mode: 0o755 },
  );
  return bin;
}

export function countRuns(runs: string): number {
  try {
    return readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}
