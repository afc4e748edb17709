/**
 * Byte-range units of one large mbox (sources/mbox.ts, mbox-split.ts rangeStart): read one
 * range after the other, they hand out exactly the messages, bytes and cursors of the file read
 * in one piece, however the ranges cut it: inside a message, inside its headers, on a quoted
 * `From ` line (escaped `>From ` as mboxrd and mboxo write it, or a bare one in a body after a
 * non-empty line), CRLF or LF. A checkpoint resumes inside its own range only.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawMessage, SourceUnit } from '../../src/model/message.js';
import { isCursorAdvance } from '../../src/model/message.js';
import { mboxSource } from '../../src/sources/mbox.js';
import { tempDir } from '../helpers/cli.js';

function archive(count: number, eol: '\n' | '\r\n'): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const lines = [
      `From sender${i}@example.org Mon Mar  4 09:15:00 2024`,
      `Message-ID: <m${i}@range.test>`,
      `Subject: note ${i}`,
      '',
      `Body of ${i}. Patient SSN 212-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i)}`,
    ];
    // mboxrd / mboxo escapes of quoted From lines, and a bare one after a non-empty line.
    if (i % 3 === 0) lines.push('', `>From someone@example.org Mon Mar  4 09:15:00 2024`, '>>From the archive');
    if (i % 4 === 0) lines.push(`From here on the order ships weekly.`);
    for (let j = 0; j < (i * 7) % 40; j++) lines.push(`filler line ${j} of message ${i}`);
    parts.push(`${lines.join(eol)}${eol}${eol}`);
  }
  return parts.join('');
}

async function read(file: string, rangeBytes: number, after?: (unit: SourceUnit) => string | undefined): Promise<{ units: SourceUnit[]; messages: RawMessage[] }> {
  const source = mboxSource(`mbox:${file}`, file, { maxMessageBytes: 1 << 20, mboxRangeBytes: rangeBytes });
  const units = await source.units(() => undefined);
  const messages: RawMessage[] = [];
  for (const unit of units) {
    const cursor = after?.(unit);
    for await (const item of source.messages(unit, cursor === undefined ? undefined : { unitId: unit.id, cursor })) {
      if (!isCursorAdvance(item)) messages.push(item);
    }
  }
  return { units, messages };
}

const shape = (m: RawMessage): { locator: string; cursor: string; size: number; text: string } => ({
  locator: m.locator,
  cursor: m.cursor,
  size: m.size,
  text: m.bytes.toString('latin1'),
});

describe('mbox byte-range units', () => {
  for (const eol of ['\n', '\r\n'] as const) {
    it(`ranges of any size give the one-piece read's messages (${eol === '\n' ? 'LF' : 'CRLF'})`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'big.mbox');
      writeFileSync(file, archive(120, eol));
      const whole = await read(file, 0);
      expect(whole.units).toHaveLength(1);
      expect(whole.messages).toHaveLength(120);
      // Quoted From lines stay inside their message, unescaped once.
      expect(whole.messages[0]?.bytes.toString('latin1')).toContain(`${eol}From someone@example.org`);
      for (const bytes of [997, 1500, 2048, 4093, 9999]) {
        const ranged = await read(file, bytes);
        expect(ranged.units.length).toBeGreaterThan(3);
        expect(new Set(ranged.units.map((u) => u.id)).size).toBe(ranged.units.length);
        expect(ranged.messages.map(shape)).toEqual(whole.messages.map(shape));
      }
    });
  }

  it('a range cut on a quoted From line, inside headers, or exactly on a separator starts at the next separator', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'cut.mbox');
    const text = archive(30, '\n');
    writeFileSync(file, text);
    const whole = await read(file, 0);
    const cuts = [text.indexOf('>From someone'), text.indexOf('From here on'), text.indexOf('Subject: note 7'), text.indexOf('From sender9@'), text.indexOf('From sender9@') + 1];
    for (const cut of cuts) {
      expect(cut).toBeGreaterThan(0);
      const ranged = await read(file, cut);
      expect(ranged.messages.map(shape)).toEqual(whole.messages.map(shape));
    }
  });

  it('a checkpoint resumes its own range; a range whose checkpoint is at its end yields nothing', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'resume.mbox');
    writeFileSync(file, archive(60, '\n'));
    const first = await read(file, 2000);
    const last = new Map<string, string>();
    for (const m of first.messages) last.set(m.unit.id, m.cursor);
    const again = await read(file, 2000, (unit) => last.get(unit.id));
    expect(again.messages).toHaveLength(0);
    // Resuming every range after its first message: all but those first messages again.
    const firstOf = new Map<string, string>();
    for (const m of first.messages) if (!firstOf.has(m.unit.id)) firstOf.set(m.unit.id, m.cursor);
    const rest = await read(file, 2000, (unit) => firstOf.get(unit.id));
    expect(rest.messages.map((m) => m.locator)).toEqual(first.messages.filter((m) => firstOf.get(m.unit.id) !== m.cursor).map((m) => m.locator));
  });
});
