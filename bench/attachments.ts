/**
 * `npm run bench:attachments`: text extraction speed per attachment format (MB/s of attachment
 * bytes, extraction alone, warm) and end-to-end messages/s of the built CLI on a generated
 * attachment-heavy mbox. Documents come from the fixture generator's writers, scaled up.
 *
 *   npm run bench:attachments [-- --messages 600]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { docx, odf, outlookMsg, pdf, pptx, tnef, xlsx, zipFiles } from '../fixtures/attachments.js';
import { base64Lines } from '../fixtures/generate.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction } from '../src/extract/index.js';
import type { Problem } from '../src/model/problem.js';
import type { Segment } from '../src/model/segment.js';
import { Rng } from './prng.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, '.bench', 'attachments');
const MB = 1e6;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A synthetic SSN-shaped value (area 100-599). */
function ssn(rng: Rng): string {
  const n = (lo: number, span: number): number => lo + Math.floor(rng.float() * span);
  return `${n(100, 500)}-${n(10, 89)}-${n(1000, 8999)}`;
}

/**
 * One document per format: `scale` 1 is a few hundred KB each; an identifier on every
 * `phiEvery`-th line or row (real mail is sparse: a dense roster on every line makes the rule
 * engine, not extraction, the cost).
 */
function documents(rng: Rng, scale = 1, phiEvery = 1): { format: string; name: string; type: string; bytes: Uint8Array }[] {
  const k = (n: number): number => Math.max(1, Math.round(n * scale));
  const id = (i: number): string => (i % phiEvery === 0 ? ssn(rng) : `ref ${1000 + i}`);
  const lines = (n: number, label: string): string[] => Array.from({ length: k(n) }, (_, i) => `${label} line ${i + 1}: patient follow-up, SSN ${id(i)}, oxygen 2 L/min via concentrator`);
  const rows = Array.from({ length: k(5000) }, (_, i) => [`Patient ${i}`, i % phiEvery === 0 ? Number(ssn(rng).replace(/-/g, '')) : i, `W${String(100000000 + i)}`, { date: 15_000 + i }, 'Aetna'] as const);
  const csv = `Name,SSN,Member ID\n${Array.from({ length: k(5000) }, (_, i) => `Patient ${i},${id(i)},W${100000000 + i}`).join('\n')}\n`;
  const html = `<html><body><table>${Array.from({ length: k(3000) }, (_, i) => `<tr><td>Patient ${i}</td><td>${id(i)}</td></tr>`).join('')}</table></body></html>`;
  const rtf = `{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}${lines(3000, 'rtf').map((l) => `${l}\\par `).join('')}}`;
  return [
    { format: 'PDF (50 pages)', name: 'a.pdf', type: 'application/pdf', bytes: pdf(Array.from({ length: k(50) }, (_, p) => lines(40, `p${p}`))) },
    { format: 'DOCX', name: 'a.docx', type: 'application/octet-stream', bytes: docx(lines(3000, 'docx'), [['Name', 'SSN'], ...Array.from({ length: k(200) }, (_, i) => [`P${i}`, id(i)])]) },
    { format: 'XLSX (5000 × 5)', name: 'a.xlsx', type: 'application/octet-stream', bytes: xlsx([{ name: 'Patients', rows: [['Name', 'SSN', 'Member ID', 'DOB', 'Payer'], ...rows] }]) },
    { format: 'PPTX (100 slides)', name: 'a.pptx', type: 'application/octet-stream', bytes: pptx(Array.from({ length: k(100) }, (_, s) => lines(20, `s${s}`))) },
    { format: 'ODT', name: 'a.odt', type: 'application/octet-stream', bytes: odf('text', lines(3000, 'odt').map((l) => `<text:p>${l}</text:p>`).join('')) },
    { format: 'ODS (3000 rows)', name: 'a.ods', type: 'application/octet-stream', bytes: odf('spreadsheet', `<table:table table:name="S">${Array.from({ length: k(3000) }, (_, i) => `<table:table-row><table:table-cell><text:p>P${i}</text:p></table:table-cell><table:table-cell><text:p>${id(i)}</text:p></table:table-cell></table:table-row>`).join('')}</table:table>`) },
    { format: 'RTF', name: 'a.rtf', type: 'application/rtf', bytes: enc(rtf) },
    { format: 'CSV', name: 'a.csv', type: 'text/csv', bytes: enc(csv) },
    { format: 'HTML', name: 'a.html', type: 'text/html', bytes: enc(html) },
    { format: 'ZIP (csv + docx + zip)', name: 'a.zip', type: 'application/zip', bytes: zipFiles([{ name: 'r.csv', data: enc(csv) }, { name: 'l.docx', data: docx(lines(1000, 'z')) }, { name: 'n.zip', data: zipFiles([{ name: 'n.txt', data: enc(lines(1000, 'n').join('\n')) }]) }]) },
    { format: 'TNEF winmail.dat', name: 'winmail.dat', type: 'application/ms-tnef', bytes: tnef(lines(2000, 't').join('\n'), { name: 'notes.csv', shortName: 'NOTES.CSV', data: enc(csv) }) },
    { format: 'Outlook .msg', name: 'a.msg', type: 'application/vnd.ms-outlook', bytes: outlookMsg('Roster', lines(2000, 'm').join('\n'), { name: 'r.csv', data: enc(csv) }) },
  ];
}

async function extractOnce(bytes: Uint8Array, name: string, type: string): Promise<{ chars: number; problems: number }> {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  const extraction = messageExtraction(DEFAULT_LIMITS, 5, segments, problems, async () => undefined);
  await extractAttachment(bytes, extraction.attachment(`attachment:${name}`, 0), { name, contentType: type });
  return { chars: segments.reduce((n, s) => n + s.text.length, 0), problems: problems.length };
}

function mimeMessage(n: number, attachments: readonly { name: string; type: string; bytes: Uint8Array }[]): string {
  const b = `b${n}`;
  const parts = attachments.map((a) => [`--${b}`, `Content-Type: ${a.type}; name="${a.name}"`, `Content-Disposition: attachment; filename="${a.name}"`, 'Content-Transfer-Encoding: base64', '', ...base64Lines(a.bytes)].join('\n'));
  return [`From bench@example.org Mon Jan  1 00:00:00 2024`, `From: bench@example.org`, `Subject: attachments ${n}`, `Message-ID: <bench-${n}@example.org>`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain', '', 'See attached.', ...parts, `--${b}--`, '', ''].join('\n');
}

async function main(): Promise<void> {
  const rng = new Rng(20_241_124);
  const docs = documents(rng);
  const load = os.loadavg()[0]?.toFixed(2);
  console.log(`attachments benchmark — Node ${process.version}, ${os.cpus().length} CPUs, load average ${load}\n`);
  console.log('| format | size | warm ms | MB/s (file) | text chars | M chars/s (text out) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const d of docs) {
    await extractOnce(d.bytes, d.name, d.type); // cold: module load, JIT
    const runs = 5;
    const start = performance.now();
    let out = { chars: 0, problems: 0 };
    for (let i = 0; i < runs; i++) out = await extractOnce(d.bytes, d.name, d.type);
    const ms = (performance.now() - start) / runs;
    if (out.problems > 0 || out.chars === 0) throw new Error(`${d.format}: ${out.problems} problems, ${out.chars} chars`);
    console.log(`| ${d.format} | ${(d.bytes.length / 1024).toFixed(0)} KB | ${ms.toFixed(1)} | ${(d.bytes.length / MB / (ms / 1000)).toFixed(1)} | ${out.chars} | ${(out.chars / 1e6 / (ms / 1000)).toFixed(1)} |`);
  }

  // End to end: an mbox where every message carries 1-3 of the documents above (smaller copies).
  const count = flag('messages', 400);
  const small = documents(new Rng(7), 0.05, 40);
  const pick = (): (typeof small)[number] => small[Math.floor(rng.float() * small.length)] as (typeof small)[number];
  mkdirSync(WORK, { recursive: true });
  const mbox = path.join(WORK, 'attachments.mbox');
  const messages: string[] = [];
  for (let i = 0; i < count; i++) messages.push(mimeMessage(i, Array.from({ length: 1 + Math.floor(rng.float() * 3) }, pick)));
  const text = messages.join('');
  writeFileSync(mbox, text);
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  const start = performance.now();
  const report = path.join(WORK, 'report.jsonl');
  const run = spawnSync(process.execPath, [cli, 'scan', `mbox:${mbox}`, '--format', 'jsonl', '--no-progress', '--out', report], {
    env: { ...process.env, PHI_SCAN_KEY: 'bench-key-0123456789abcdef0123456789', PHI_SCAN_STATE: path.join(WORK, 'state') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 1) throw new Error(`scan exited ${run.status} (expected 1: PHI found, nothing unreadable)`);
  const seconds = (performance.now() - start) / 1000;
  let findings = 0;
  for await (const line of createInterface({ input: createReadStream(report) })) if (line.startsWith('{"type":"finding"')) findings++;
  console.log(
    `\nend to end (dist CLI, one process): ${count} messages, ${(text.length / MB).toFixed(0)} MB mbox, ${seconds.toFixed(1)} s → ${(count / seconds).toFixed(1)} messages/s, ${(text.length / MB / seconds).toFixed(1)} MB/s, ${findings} findings; load average at end ${os.loadavg()[0]?.toFixed(2)}`,
  );
}

await main();
