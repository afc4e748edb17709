/**
 * Candidate-dense text for the engine: a roster (a CSV export or a pasted table of thousands of
 * rows, each with a name, a date of birth, an SSN, an MBI and a member ID), the text the mail
 * that matters most is made of. Everything is made up (seeded PRNG, bench/prng.ts); SSNs avoid
 * the invalid areas, MBIs follow the CMS layout.
 */
import { Rng } from './prng.js';

const FIRST = ['Rosalind', 'Edmund', 'Hattie', 'Cornelius', 'Mavis', 'Ambrose', 'Delphine', 'Percival', 'Odessa', 'Lucius', 'Winifred', 'Thaddeus', 'Margaret', 'Harold', 'Dorothy', 'Walter'];
const LAST = ['Thistlewood', 'Fennimore', 'Quillfeather', 'Marchbanks', 'Ravensworth', 'Pemberly', 'Oakhurst', 'Wickersham', 'Brightwater', 'Hollingsby', 'Kowalczyk', 'Okonkwo', 'Vasquez-Ruiz', "O'Brannigan"];
const PLANS = ['Aetna', 'Humana Gold Plus', 'UnitedHealthcare', 'Cigna', 'Anthem Blue Cross'];
const MBI_LETTERS = 'ACDEFGHJKMNPQRTUVWXY';

export type RosterLayout = 'csv' | 'tsv' | 'pipe' | 'labelled';
export const ROSTER_LAYOUTS: readonly RosterLayout[] = ['csv', 'tsv', 'pipe', 'labelled'];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export class RosterGenerator {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  private ssn(): string {
    let area = this.rng.int(1, 898);
    if (area >= 666) area++;
    return `${pad(area, 3)}-${pad(this.rng.int(1, 99), 2)}-${pad(this.rng.int(1, 9999), 4)}`;
  }

  private mbi(): string {
    const l = (): string => MBI_LETTERS[this.rng.int(0, MBI_LETTERS.length - 1)] as string;
    const d = (): string => String(this.rng.int(0, 9));
    const an = (): string => (this.rng.chance(0.5) ? l() : d());
    return `${this.rng.int(1, 9)}${l()}${an()}${d()}${l()}${an()}${d()}${l()}${l()}${d()}${d()}`;
  }

  private dob(): string {
    return `${pad(this.rng.int(1, 12), 2)}/${pad(this.rng.int(1, 28), 2)}/${this.rng.int(1930, 1995)}`;
  }

  private memberId(): string {
    return `${this.rng.pick(['W', 'XJH', 'MBR', 'H'])}${this.rng.digits(9)}`;
  }

  private row(): string[] {
    return [`${this.rng.pick(LAST)}, ${this.rng.pick(FIRST)}`, this.dob(), this.ssn(), this.mbi(), this.memberId(), this.rng.pick(PLANS)];
  }

  /** About `chars` characters of one roster in `layout` (whole rows). */
  text(chars: number, layout: RosterLayout): string {
    const header = ['Patient Name', 'DOB', 'SSN', 'MBI', 'Member ID', 'Plan'];
    const lines: string[] = [];
    const cell = (c: string): string => (c.includes(',') ? `"${c}"` : c);
    if (layout === 'csv') lines.push(header.join(','));
    if (layout === 'tsv') lines.push(header.join('\t'));
    if (layout === 'pipe') lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    let n = lines.reduce((a, l) => a + l.length + 1, 0);
    while (n < chars) {
      const r = this.row();
      let line: string;
      if (layout === 'csv') line = r.map(cell).join(',');
      else if (layout === 'tsv') line = r.join('\t');
      else if (layout === 'pipe') line = `| ${r.join(' | ')} |`;
      else line = `Patient: ${r[0]}  DOB: ${r[1]}  SSN: ${r[2]}  MBI: ${r[3]}  Member ID: ${r[4]}  Plan: ${r[5]}`;
      lines.push(line);
      n += line.length + 1;
    }
    return `${lines.join('\n')}\n`;
  }
}
