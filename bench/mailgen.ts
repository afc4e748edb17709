/**
 * Synthetic business and medical-office mail for benchmarks. Everything is made up: people are
 * random first/last name pairs, domains are under the reserved `.example` TLD, phone numbers use
 * the fictional 555-01xx range. About `phiRate` of the messages carry a labelled SSN (the planted
 * ground truth); the rest is business text full of near-misses: phone, order, invoice and claim
 * numbers, dates, amounts, ZIP codes.
 */
import { Rng } from './prng.js';

const FIRST = [
  'Alice', 'Bruno', 'Carmen', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ingrid', 'Jamal', 'Keiko', 'Liam',
  'Marta', 'Nikhil', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Samir', 'Tessa', 'Umar', 'Vera', 'Wen', 'Xavier',
  'Yara', 'Zoë', 'José', 'Renée', 'Björn', 'Chloé', 'Dara', 'Emeka', 'Fiona', 'Gustavo', 'Hana', 'Ivan',
] as const;
const LAST = [
  'Abernathy', 'Baptiste', 'Castellano', 'Dorsey', 'Eklund', 'Fairweather', 'Galloway', 'Hollis', 'Ibarra',
  'Jankowski', 'Kowalczyk', 'Lindqvist', 'Marchetti', 'Nakamura', 'Okonkwo', 'Pemberton', 'Quintero',
  'Rasmussen', 'Sandoval', 'Thorne', 'Underhill', 'Vasquez', 'Whitfield', 'Xu', 'Yamamoto', 'Zielinski',
  'Müller', 'Núñez', 'Ørsted', 'Delacroix', 'Featherstone', 'Grunewald',
] as const;
const COMPANIES = [
  ['Northwind Medical Supply', 'northwind.example'],
  ['Riverside Family Clinic', 'riverside-clinic.example'],
  ['Lakeshore Orthopedics', 'lakeshore-ortho.example'],
  ['Contoso Billing Services', 'contoso-billing.example'],
  ['Fabrikam Diagnostics', 'fabrikam-dx.example'],
  ['Summit Pharmacy Group', 'summit-rx.example'],
  ['Harbor View Dental', 'harborview-dental.example'],
  ['Tailspin Logistics', 'tailspin.example'],
] as const;
const PRODUCTS = [
  'nitrile exam gloves (L)', 'disposable gowns', 'sterile gauze pads 4x4', 'digital thermometers',
  'pulse oximeters', 'syringes 3 ml', 'alcohol prep pads', 'exam table paper', 'surgical masks',
  'blood pressure cuffs', 'specimen containers', 'hand sanitizer 500 ml', 'bandage rolls', 'lab coats',
] as const;
const DOCS = [
  'monthly statement', 'updated price list', 'shipping manifest', 'signed contract', 'revised schedule',
  'quarterly report', 'audit checklist', 'vendor onboarding form', 'credentialing packet', 'remittance advice',
] as const;
const TEAMS = ['billing team', 'front desk', 'warehouse', 'IT department', 'compliance office', 'scheduling desk', 'accounts payable'] as const;
const ACTIONS = [
  'review the open items', 'confirm the delivery window', 'update the vendor record', 'close out the batch',
  'reconcile the statement', 'send a corrected invoice', 'finish the migration', 'sign off on the changes',
] as const;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December',
] as const;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const AREA_CODES = ['212', '312', '415', '617', '713', '206', '303', '404', '602', '919'] as const;
const DEPTS = ['cardiology', 'pediatrics', 'radiology', 'physical therapy', 'dermatology', 'family medicine'] as const;

export type MessageKind = 'plain' | 'qp' | 'alternative' | 'csv';
export const KINDS: readonly (readonly [MessageKind, number])[] = [
  ['plain', 0.35],
  ['qp', 0.15],
  ['alternative', 0.3],
  ['csv', 0.2],
];

export interface GeneratedMessage {
  /** The message (headers and body), LF line endings, not yet mbox-escaped. */
  readonly text: string;
  /** The mbox From_ line (without the line break). */
  readonly fromLine: string;
  readonly kind: MessageKind;
  /** Carries at least one labelled SSN (ground truth). */
  readonly phi: boolean;
}

interface Person {
  readonly first: string;
  readonly last: string;
  readonly company: string;
  readonly domain: string;
}

interface Table {
  readonly header: readonly string[];
  readonly rows: string[][];
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

export class MailGenerator {
  private readonly rng: Rng;
  private serial = 0;

  constructor(
    seed: number,
    private readonly phiRate = 0.15,
  ) {
    this.rng = new Rng(seed);
  }

  // ---------- atoms ----------

  person(): Person {
    const [company, domain] = this.rng.pick(COMPANIES);
    return { first: this.rng.pick(FIRST), last: this.rng.pick(LAST), company, domain };
  }

  private address(p: Person): string {
    const local = `${p.first}.${p.last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '').toLowerCase();
    return `${local}@${p.domain}`;
  }

  /** A valid-looking SSN: area 001-665 or 667-899, group 01-99, serial 0001-9999, not one repeated digit. */
  ssn(): string {
    for (;;) {
      let area = this.rng.int(1, 898);
      if (area >= 666) area++;
      const group = this.rng.int(1, 99);
      const serial = this.rng.int(1, 9999);
      const digits = `${String(area).padStart(3, '0')}${pad2(group)}${String(serial).padStart(4, '0')}`;
      if (/^(\d)\1{8}$/.test(digits) || digits === '123456789') continue;
      return digits;
    }
  }

  private phone(): string {
    const area = this.rng.pick(AREA_CODES);
    const line = `01${this.rng.digits(2)}`;
    switch (this.rng.int(0, 3)) {
      case 0:
        return `(${area}) 555-${line}`;
      case 1:
        return `${area}-555-${line}`;
      case 2:
        return `${area}.555.${line}`;
      default:
        return `+1 ${area} 555 ${line}`;
    }
  }

  private date(): string {
    const y = this.rng.int(2023, 2025);
    const m = this.rng.int(1, 12);
    const d = this.rng.int(1, 28);
    switch (this.rng.int(0, 3)) {
      case 0:
        return `${y}-${pad2(m)}-${pad2(d)}`;
      case 1:
        return `${pad2(m)}/${pad2(d)}/${y}`;
      case 2:
        return `${MONTH_NAMES[m - 1]} ${d}, ${y}`;
      default:
        return `${d} ${MONTHS[m - 1]} ${y}`;
    }
  }

  private dob(): string {
    return `${pad2(this.rng.int(1, 12))}/${pad2(this.rng.int(1, 28))}/${this.rng.int(1935, 2010)}`;
  }

  private amount(): string {
    return `$${this.rng.int(12, 98_000).toLocaleString('en-US')}.${this.rng.digits(2)}`;
  }

  private orderNo(): string {
    return this.rng.pick([
      `SO-${this.rng.int(2023, 2025)}-${this.rng.digits(6)}`,
      `PO ${this.rng.int(4500, 4599)}${this.rng.digits(6)}`,
      `order #${this.rng.int(1_000_000, 9_999_999)}`,
      `INV-${this.rng.digits(7)}`,
      `CLM-${this.rng.int(2023, 2025)}-${this.rng.digits(6)}`,
    ]);
  }

  private sku(): string {
    return `NW-${this.rng.int(1000, 9999)}-${String.fromCharCode(65 + this.rng.int(0, 5))}`;
  }

  // ---------- text ----------

  private sentence(): string {
    const g = this.rng;
    switch (g.int(0, 17)) {
      case 0:
        return `Please find attached the ${g.pick(DOCS)} for ${g.pick(MONTH_NAMES)}.`;
      case 1:
        return `As discussed on ${this.date()}, the ${g.pick(TEAMS)} will ${g.pick(ACTIONS)} by ${g.pick(WEEKDAYS)}.`;
      case 2:
        return `Your ${this.orderNo()} (${g.int(2, 400)} cases of ${g.pick(PRODUCTS)}) shipped on ${this.date()}; tracking 1Z${g.digits(4)}E${g.digits(10)}.`;
      case 3:
        return `Call me at ${this.phone()} if anything is unclear, or reach the office at ${this.phone()} ext. ${g.int(10, 499)}.`;
      case 4:
        return `${this.orderNo()} for ${this.amount()} is due on ${this.date()}; remit to the lockbox at ZIP ${g.digits(5)}-${g.digits(4)}.`;
      case 5:
        return `The meeting with ${g.pick(COMPANIES)[0]} moved to ${g.pick(WEEKDAYS)} at ${g.int(8, 16)}:${g.pick(['00', '15', '30', '45'])} in room ${g.int(100, 499)}.`;
      case 6:
        return `Dr. ${g.pick(LAST)} signed off on the ${g.pick(DEPTS)} supply budget (${this.amount()}) for Q${g.int(1, 4)}.`;
      case 7:
        return `We are out of ${g.pick(PRODUCTS)} (SKU ${this.sku()}) until ${this.date()}; backorder quantity is ${g.int(10, 900)}.`;
      case 8:
        return `Appointment reminders for the ${g.pick(DEPTS)} clinic now go out ${g.int(24, 72)} hours before the visit.`;
      case 9:
        return `Batch ${g.digits(8)} posted ${g.int(40, 900)} claims totalling ${this.amount()}; ${g.int(0, 30)} were rejected for missing modifiers.`;
      case 10:
        return `Customer ID ${g.digits(8)} asked for a credit memo against ${this.orderNo()}.`;
      case 11:
        return `The ${g.pick(TEAMS)} closes early on ${g.pick(WEEKDAYS)} – please plan deliveries for the morning.`;
      case 12:
        return `Pricing for ${g.pick(PRODUCTS)} goes from ${this.amount()} to ${this.amount()} per case effective ${this.date()}.`;
      case 13:
        return `Thanks for the quick turnaround on the ${g.pick(DOCS)}; “great work” as ${g.pick(FIRST)} put it.`;
      case 14:
        return `Version ${g.int(1, 9)}.${g.int(0, 20)}.${g.int(0, 99)} of the portal goes live ${this.date()} between ${g.int(1, 5)}:00 and ${g.int(6, 9)}:00.`;
      case 15:
        return `Fax the signed form to ${this.phone()} or upload it to the portal.`;
      case 16:
        return `Reference ${g.digits(3)}-${g.digits(3)}-${g.digits(4)} was assigned to your ticket.`;
      default:
        return `Let me know whether ${g.pick(WEEKDAYS)} works for a short call about ${g.pick(ACTIONS).replace(/^\w+ /, '')}.`;
    }
  }

  private paragraph(): string {
    const n = this.rng.int(2, 6);
    let p = '';
    for (let i = 0; i < n; i++) p += (i > 0 ? ' ' : '') + this.sentence();
    // Now and then a body line starting with "From " (mboxrd must escape it).
    if (this.rng.chance(0.03)) p = `From the desk of ${this.rng.pick(FIRST)} ${this.rng.pick(LAST)}: ${p}`;
    return p;
  }

  /** A line with a labelled SSN (the label is within 40 characters, so it is a high-confidence finding). */
  private ssnLine(patient: Person): string {
    const d = this.ssn();
    const dashed = `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`;
    switch (this.rng.int(0, 4)) {
      case 0:
        return `Patient: ${patient.first} ${patient.last}, DOB ${this.dob()}, SSN: ${dashed}`;
      case 1:
        return `SSN: ${dashed}`;
      case 2:
        return `Social Security Number: ${d.slice(0, 3)} ${d.slice(3, 5)} ${d.slice(5)}`;
      case 3:
        return `Member SS# ${d}`;
      default:
        return `The patient's social security number is ${dashed} per the intake form.`;
    }
  }

  private wrap(paragraph: string, width = 72): string {
    if (paragraph.length <= width) return paragraph;
    const words = paragraph.split(' ');
    const lines: string[] = [];
    let line = '';
    for (const w of words) {
      if (line.length > 0 && line.length + 1 + w.length > width) {
        lines.push(line);
        line = w;
      } else line = line.length > 0 ? `${line} ${w}` : w;
    }
    if (line.length > 0) lines.push(line);
    return lines.join('\n');
  }

  /** Plain text of about `target` characters: greeting, paragraphs, maybe a quoted reply, signature. */
  bodyText(target: number, phi: boolean, from: Person, to: Person): string {
    const parts: string[] = [`Hi ${to.first},`];
    let size = parts[0]?.length ?? 0;
    const signature = `Best regards,\n${from.first} ${from.last}\n${from.company}\nPhone ${this.phone()} | Fax ${this.phone()}`;
    size += signature.length;
    const quoteAt = this.rng.chance(0.3) ? target * 0.6 : Infinity;
    let phiPlaced = !phi;
    while (size < target) {
      let p = this.wrap(this.paragraph());
      if (!phiPlaced && (size > target * 0.3 || this.rng.chance(0.3))) {
        p = `${p}\n${this.ssnLine(this.person())}`;
        phiPlaced = true;
      }
      if (size > quoteAt) {
        const who = this.person();
        p = `On ${this.date()}, ${who.first} ${who.last} <${this.address(who)}> wrote:\n${p
          .split('\n')
          .map((l, i) => (i === 0 && this.rng.chance(0.2) ? `>From ${l}` : `> ${l}`))
          .join('\n')}`;
      }
      parts.push(p);
      size += p.length + 2;
    }
    if (!phiPlaced) parts.push(this.ssnLine(this.person()));
    parts.push(signature);
    return `${parts.join('\n\n')}\n`;
  }

  private itemsTable(rows: number): Table {
    const header = ['Item', 'SKU', 'Qty', 'Unit price', 'Order', 'Ship date'];
    const out: string[][] = [];
    for (let i = 0; i < rows; i++) {
      out.push([this.rng.pick(PRODUCTS), this.sku(), String(this.rng.int(1, 500)), this.amount(), this.orderNo(), this.date()]);
    }
    return { header, rows: out };
  }

  private patientsTable(rows: number): Table {
    const header = ['Patient', 'DOB', 'SSN', 'Visit', 'Provider'];
    const out: string[][] = [];
    for (let i = 0; i < rows; i++) {
      const p = this.person();
      const d = this.ssn();
      out.push([`${p.first} ${p.last}`, this.dob(), `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`, this.date(), `Dr. ${this.rng.pick(LAST)}`]);
    }
    return { header, rows: out };
  }

  private tableAsText(t: Table): string {
    return [t.header, ...t.rows].map((r) => r.join(' | ')).join('\n');
  }

  private tableAsHtml(t: Table): string {
    const cell = 'style="border:1px solid #ccc;padding:4px 8px;font-family:Arial,sans-serif;font-size:13px"';
    const head = t.header.map((h) => `<th ${cell}>${escapeHtml(h)}</th>`).join('');
    const body = t.rows.map((r) => `<tr>${r.map((c) => `<td ${cell}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
    return `<table style="border-collapse:collapse" cellpadding="0" cellspacing="0">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
  }

  private csv(target: number, phi: boolean): { name: string; text: string } {
    const lines: string[] = [];
    let size = 0;
    if (phi) {
      lines.push('patient_id,last_name,first_name,dob,ssn,visit_date,provider');
      while (size < target) {
        const p = this.person();
        const d = this.ssn();
        const l = `MRN${this.rng.digits(7)},${p.last},${p.first},${this.dob()},${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)},${this.date()},Dr. ${this.rng.pick(LAST)}`;
        lines.push(l);
        size += l.length + 1;
      }
      return { name: `patients-${this.rng.int(2023, 2025)}-${pad2(this.rng.int(1, 12))}.csv`, text: `${lines.join('\n')}\n` };
    }
    lines.push('order_id,order_date,customer_id,sku,description,qty,amount,contact_phone');
    while (size < target) {
      const l = `${this.orderNo()},${this.date()},${this.rng.digits(8)},${this.sku()},"${this.rng.pick(PRODUCTS)}",${this.rng.int(1, 500)},"${this.amount()}",${this.phone()}`;
      lines.push(l);
      size += l.length + 1;
    }
    return { name: `orders-${this.rng.int(2023, 2025)}-${pad2(this.rng.int(1, 12))}.csv`, text: `${lines.join('\n')}\n` };
  }

  /** Email-like plain text of about `target` characters (for the engine benchmark). */
  segmentText(target: number): { text: string; phi: boolean } {
    const phi = this.rng.chance(this.phiRate);
    return { text: this.bodyText(target, phi, this.person(), this.person()), phi };
  }

  // ---------- messages ----------

  message(): GeneratedMessage {
    const index = this.serial++;
    const kind = this.rng.weighted(KINDS);
    const phi = this.rng.chance(this.phiRate);
    const from = this.person();
    const to = this.person();
    const target = this.rng.logUniform(2_000, 60_000);
    const when = new Date(Date.UTC(2023, 0, 1) + this.rng.int(0, 730 * 24 * 3600) * 1000);
    const tzMinutes = this.rng.pick([-480, -420, -360, -300, -240, 0, 60, 120]);
    const boundary = `----=_Part_${index}_${this.rng.digits(10)}`;
    const subjectBase = this.rng.pick([
      `Re: ${this.orderNo()}`,
      `${this.rng.pick(DOCS).replace(/^./, (c) => c.toUpperCase())} – ${this.rng.pick(MONTH_NAMES)}`,
      `Schedule for ${this.rng.pick(WEEKDAYS)}`,
      `Fwd: ${this.rng.pick(ACTIONS)}`,
      phi ? 'Intake records' : 'Delivery update',
      `Question about ${this.orderNo()}`,
    ]);
    const headers = [
      `Received: from mx${this.rng.int(1, 9)}.${to.domain} (mx${this.rng.int(1, 9)}.${to.domain} [192.0.2.${this.rng.int(1, 254)}])\n\tby mail.${to.domain} with ESMTPS id ${this.rng.digits(12)}; ${rfc2822(when, tzMinutes)}`,
      `From: "${from.first} ${from.last}" <${this.address(from)}>`,
      `To: "${to.first} ${to.last}" <${this.address(to)}>`,
      ...(this.rng.chance(0.3) ? [`Cc: ${this.address(this.person())}, ${this.address(this.person())}`] : []),
      `Subject: ${encodeHeader(subjectBase)}`,
      `Date: ${rfc2822(when, tzMinutes)}`,
      `Message-ID: <${when.getTime().toString(36)}.${index}.${this.rng.digits(6)}@${from.domain}>`,
      `MIME-Version: 1.0`,
    ];

    let body: string;
    const headerSize = headers.join('\n').length;
    const budget = Math.max(500, target - headerSize);
    switch (kind) {
      case 'plain': {
        const text = this.bodyText(budget, phi, from, to);
        headers.push(`Content-Type: text/plain; charset=utf-8; format=flowed`, `Content-Transfer-Encoding: ${isAscii(text) ? '7bit' : '8bit'}`);
        body = text;
        break;
      }
      case 'qp': {
        const text = this.bodyText(budget * 0.9, phi, from, to);
        headers.push(`Content-Type: text/plain; charset=utf-8`, `Content-Transfer-Encoding: quoted-printable`);
        body = quotedPrintable(text);
        break;
      }
      case 'alternative': {
        // HTML roughly doubles the text with markup; keep the total near the target.
        const rowsBudget = budget * 0.35;
        const table = phi ? this.patientsTable(Math.max(1, Math.round(rowsBudget / 420))) : this.itemsTable(Math.max(1, Math.round(rowsBudget / 520)));
        const text = this.bodyText(budget * 0.25, false, from, to);
        const paragraphs = text.trimEnd().split('\n\n');
        const plain = `${paragraphs.slice(0, -1).join('\n\n')}\n\n${this.tableAsText(table)}\n\n${paragraphs[paragraphs.length - 1] ?? ''}\n`;
        const html =
          `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><style>p{margin:0 0 12px 0}</style></head>\n<body style="font-family:Arial,sans-serif">\n` +
          paragraphs
            .slice(0, -1)
            .map((p) => `<p>${escapeHtml(p).replace(/\n/g, ' ')}</p>`)
            .join('\n') +
          `\n${this.tableAsHtml(table)}\n<p>${escapeHtml(paragraphs[paragraphs.length - 1] ?? '').replace(/\n/g, '<br>\n')}</p>\n</body></html>\n`;
        headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
        body =
          `This is a multi-part message in MIME format.\n\n--${boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${quotedPrintable(plain)}` +
          `\n--${boundary}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${quotedPrintable(html)}\n--${boundary}--\n`;
        break;
      }
      case 'csv': {
        const text = this.bodyText(budget * 0.3, false, from, to);
        const csv = this.csv(budget * 0.5, phi);
        headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
        body =
          `--${boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: ${isAscii(text) ? '7bit' : '8bit'}\n\n${text}` +
          `\n--${boundary}\nContent-Type: text/csv; charset=utf-8; name="${csv.name}"\nContent-Disposition: attachment; filename="${csv.name}"\nContent-Transfer-Encoding: base64\n\n` +
          `${base64Lines(Buffer.from(csv.text, 'utf8'))}\n--${boundary}--\n`;
        break;
      }
    }
    const fromLine = `From ${this.address(from)} ${asctime(when)}`;
    return { text: `${headers.join('\n')}\n\n${body}`, fromLine, kind, phi };
  }
}

// ---------- encoders ----------

function isAscii(s: string): boolean {
  return !/[^\x00-\x7f]/.test(s);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** RFC 2047 Q-encoding for a header with non-ASCII characters. */
function encodeHeader(value: string): string {
  if (isAscii(value)) return value;
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (const b of bytes) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) out += String.fromCharCode(b);
    else if (b === 0x20) out += '_';
    else out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?UTF-8?Q?${out}?=`;
}

const HEX = '0123456789ABCDEF';

/** RFC 2045 quoted-printable, LF line breaks, soft breaks at 76 columns. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const last = i === bytes.length - 1;
      let enc: string;
      if ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)) enc = String.fromCharCode(b);
      else enc = `=${HEX[b >> 4]}${HEX[b & 15]}`;
      if (cur.length + enc.length > 75) {
        out.push(`${cur}=`);
        cur = '';
      }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join('\n');
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\n');
}

function rfc2822(d: Date, tzMinutes: number): string {
  const local = new Date(d.getTime() + tzMinutes * 60_000);
  const sign = tzMinutes < 0 ? '-' : '+';
  const abs = Math.abs(tzMinutes);
  return `${DAYS[local.getUTCDay()]}, ${pad2(local.getUTCDate())} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())} ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/** The asctime date of an mbox From_ line: `Mon Jan  1 00:00:00 2024`. */
function asctime(d: Date): string {
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** mboxrd: every line matching `^>*From ` gets one more `>`. */
export function mboxrdEscape(message: string): string {
  return message.replace(/^(>*From )/gm, '>$1');
}
