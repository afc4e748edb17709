/**
 * The prescan (engine/prescan.ts, wasm/prescan.wat) must give exactly what the JavaScript
 * functions it replaces give: the normalized text, the keyword hits and the pattern shapes.
 * Every comparison here is WebAssembly against JavaScript, or a fast path against the regex.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MailGenerator } from '../../bench/mailgen.js';
import { Rng } from '../../bench/prng.js';
import { binaryModuleSource, compileWat } from '../../scripts/build-wasm.js';
import { createEngine } from '../../src/engine/engine.js';
import { bucketOf, buildKeywordIndex, hashWord, keywordIn, type Candidate, type KeywordHit } from '../../src/engine/keywords.js';
import { createPrescanner } from '../../src/engine/prescan.js';
import { buildShapeAutomaton, shapesIn } from '../../src/engine/shapes.js';
import { PRESCAN_WASM } from '../../src/engine/wasm/prescan-binary.js';
import { disclaimerSpans } from '../../src/engine/text.js';
import { compileRules } from '../../src/rules/compile.js';
import { BUNDLED_RULES_DIR, loadRules, parseRuleFile } from '../../src/rules/load.js';
import { requiredShape, type ShapeStep } from '../../src/rules/shape.js';
import { CORPORA, jsonLines, optionalCorpus, runCli } from '../helpers/cli.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const index = buildKeywordIndex(rules);
const wholeTextShapes: ShapeStep[][] = [];
for (const rule of rules) {
  for (const pattern of rule.patterns) {
    if (pattern.requireContext || pattern.requireLabel) continue;
    const shape = requiredShape(pattern.regex);
    if (shape) wholeTextShapes.push(shape);
  }
}
const automaton = buildShapeAutomaton(wholeTextShapes);
const wasm = createPrescanner(index, automaton);
const javascript = createPrescanner(index, automaton, { javascript: true });
const allKeywords = [...new Set(rules.flatMap((r) => [...(r.context?.strong ?? []), ...(r.context?.weak ?? []), ...(r.negative?.words ?? []), ...(r.dictionary?.terms ?? [])]))];

/** Texts of every kind the prescan must agree on. */
function texts(): [string, string][] {
  const rng = new Rng(20_261_124);
  const gen = new MailGenerator(3);
  const out: [string, string][] = [
    ['empty', ''],
    ['one letter', 'a'],
    ['one digit at the end', 'SSN 5'],
    ['ascii', Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('')],
    ['lone surrogates', 'SSN:\ud800 536-90-4399 \udc00member id\ud83d\ude00'],
    ['specials', 'Soc\u200bial Secu\u00adrity\u00a0Number\u2013536\u201290\u20134399\u2028DOB\u00a001/02/1950\ufeff'],
    ['only a zero-width space', '\u200b'],
    // What may follow a keyword's first word (checked in WebAssembly before JavaScript confirms)
    ['first words and what follows them', "date of birth, date\u00a0of death, date  \t of birth, date, Enron's s.s.n. s.s.#, id# id  # id\t\t\t#, ID NO, type 2 diabetes, type\u1680ii diabetes"],
    ['a first word at the very end', 'patient id'],
    ['a first word and separators at the very end', 'date of \t'],
  ];
  for (let i = 0; i < 200; i++) out.push([`mail ${i}`, gen.segmentText(300 + 50 * i).text]);
  // Keywords back to back, in odd case and spacing, some glued, with values between them.
  const specials = ['\u2013', '\u00a0', '\u200b', '\u00ad', '\u2028', 'é', '\ud83d\ude00', '-', '_', '  ', '\t', '\r\n', '#', '.'];
  for (let i = 0; i < 60; i++) {
    const parts: string[] = [];
    for (let k = 0; k < 150; k++) {
      let word = rng.pick(allKeywords);
      if (rng.chance(0.3)) word = word.toUpperCase();
      if (rng.chance(0.2)) word = word.replace(/ /g, rng.pick(['', '-', '_', '   ', '    ', '\n']));
      parts.push(word, rng.pick(specials), rng.chance(0.3) ? rng.digits(rng.int(1, 12)) : '', rng.pick([' ', '', 'x', '1', ': ']));
    }
    out.push([`keywords ${i}`, parts.join('')]);
  }
  // More candidate words than one call hands over (8,192): the scan resumes.
  out.push(['many candidates', Array.from({ length: 30_000 }, (_, i) => (i % 3 === 0 ? 'date of birth' : i % 3 === 1 ? 'in' : 'patient')).join(' ')]);
  // Larger than the memory at first: it grows.
  out.push(['3 M characters', `${'member id W123456789 '.repeat(150_000)}536-90-4399`]);
  return out;
}

describe('the committed WebAssembly', () => {
  it('is what src/engine/wasm/prescan.wat compiles to (run `npm run wasm` after editing it)', async () => {
    const binary = await compileWat();
    expect(Buffer.from(PRESCAN_WASM, 'base64').equals(Buffer.from(binary))).toBe(true);
    const source = readFileSync(new URL('../../src/engine/wasm/prescan-binary.ts', import.meta.url), 'utf8');
    expect(source).toBe(binaryModuleSource(binary));
  });

  it('is in use here (the JavaScript fallback is only for runtimes without WebAssembly)', () => {
    expect(wasm.native).toBe(true);
    expect(javascript.native).toBe(false);
  });
});

describe('WebAssembly and JavaScript prescans agree', () => {
  it.each(texts())('%s', (_name, text) => {
    const a = wasm.scan(text);
    const b = javascript.scan(text);
    expect(a.text).toBe(b.text);
    expect(a.hits).toEqual(b.hits);
    for (let bit = 0; bit < automaton.included.length; bit++) expect([bit, a.hasShape(bit)]).toEqual([bit, b.hasShape(bit)]);
    expect(a.anyShape).toBe(b.anyShape);
    // The engine skips a text on `maybePositive` false: it must never be false where a keyword of a
    // gating rule (other than a negative label) is; words of rules with `gate: false` (names) do not count.
    if (b.hits.some((h) => index.gating.has(h.word))) expect(a.maybePositive).toBe(true);
  });

  it('flags every text where a disclaimer may be, and not the others', () => {
    const footer = (trigger: string): string =>
      `Thanks.\n\n${trigger} If you are not the intended recipient, notify the sender and delete this e-mail.\n`;
    const maybe = [
      'CONFIDENTIAL',
      'Privileged and Confidential',
      'confidentiality notice',
      'for the unintended recipients only',
      'the intended RECIPIENT',
      `the intended recipient${'x'.repeat(70)}`,
      `intended recipient${'s'.repeat(40)}`,
      footer('Confidential:'),
      footer(''),
    ];
    for (const text of maybe) expect([text, wasm.scan(text).maybeDisclaimer]).toEqual([text, true]);
    for (const text of ['a confident plan', 'recipe for the privilege', 'the receipt lists', 'nothing at all', '']) {
      expect([text, wasm.scan(text).maybeDisclaimer]).toEqual([text, false]);
    }
    // Never false where disclaimerSpans finds a footer.
    let footers = 0;
    for (const [, text] of [...texts(), ...maybe.map((t) => ['', t] as const)]) {
      if (disclaimerSpans(text).length === 0) continue;
      footers++;
      expect(wasm.scan(text).maybeDisclaimer).toBe(true);
    }
    expect(footers).toBeGreaterThan(2);
  });

  it('hashes words that start with a digit when a keyword does (a user rule)', () => {
    const yaml = [
      'id: user-digits',
      'category: ssn',
      'detector: ssn',
      'description: keywords that start with digits',
      'patterns:',
      '  - name: p',
      "    regex: '\\d{3}-\\d{2}-\\d{4}'",
      '    score: 0.5',
      '    requireContext: true',
      'context:',
      '  words:',
      '    - 401k plan',
      '    - 2nd opinion',
      'examples:',
      "  match: ['401k plan 536-90-4399']",
      "  noMatch: ['536-90-4399']",
      '',
    ].join('\n');
    const { rule } = parseRuleFile('user.yaml', yaml);
    const user = compileRules([{ file: 'user.yaml', rule: rule as NonNullable<typeof rule> }], { checkRedos: false }).rules;
    const own = buildKeywordIndex([...rules, ...user]);
    const a = createPrescanner(own, automaton);
    const b = createPrescanner(own, automaton, { javascript: true });
    for (const text of ['our 401K plan 536-90-4399', '401k-plan', 'a 2nd opinion', '2nd  opinion and 401kplan', 'x401k plan', '12 401k plan']) {
      expect(a.scan(text).hits).toEqual(b.scan(text).hits);
    }
    expect(a.scan('our 401K plan').hits.map((h) => h.word)).toEqual(['401k plan']);
    expect(a.scan('2nd opinion').maybePositive).toBe(true);
  });

  it('tells a text of negative labels only, and confirms its hits when asked for after the next scan', () => {
    const negatives = 'Please call the office about the price of the stock, and fax the order form.';
    const labelled = 'Member ID W123456 and date of birth 01/02/1950';
    const a = wasm.scan(negatives);
    expect([a.maybePositive, a.anyShape]).toEqual([false, false]);
    const b = wasm.scan(labelled);
    expect(b.maybePositive).toBe(true);
    expect(a.hits.map((h) => h.word)).toEqual(['call', 'office', 'price', 'stock', 'fax', 'order']);
    expect(a.hits).toEqual(javascript.scan(negatives).hits);
    expect(b.hits).toEqual(javascript.scan(labelled).hits);
    expect(javascript.scan(negatives).maybePositive).toBe(false);
  });

  it('one prescanner reused across texts of different sizes leaves nothing behind', () => {
    const long = `${'x '.repeat(100_000)} SSN 536-90-4399`;
    const short = 'DOB: 01/02/1950';
    expect(wasm.scan(short).hits).toEqual(javascript.scan(short).hits);
    wasm.scan(long);
    expect(wasm.scan(short).hits).toEqual(javascript.scan(short).hits);
    expect(wasm.scan(short).text).toBe(short);
  });

  it('finds shapes that start with a non-ASCII character (a negated class), as JavaScript does', () => {
    // A user's whole-text pattern may start with a class that takes any character.
    const custom = buildShapeAutomaton([requiredShape(/[^a-z]\d{3}-\d{2}/g) as ShapeStep[], requiredShape(/\d{3}-\d{2}-\d{4}/g) as ShapeStep[]]);
    const own = createPrescanner(index, custom);
    const reference = createPrescanner(index, custom, { javascript: true });
    for (const text of ['é123-45', 'x é123-45 y', 'abc123-45', 'A123-45', '\u4e2d123-45 and 536-90-4399', 'nothing here', '\ud83d\ude00123-45']) {
      const a = own.scan(text);
      const b = reference.scan(text);
      expect([text, a.hasShape(0), a.hasShape(1)]).toEqual([text, b.hasShape(0), b.hasShape(1)]);
    }
    expect(own.scan('é123-45').hasShape(0)).toBe(true);
    expect(own.scan('abc123-45').hasShape(0)).toBe(false);
  });

  // prescan.wat reads 64 characters at a time: words and shapes must be found wherever they fall.
  const agree = (own: ReturnType<typeof createPrescanner>, reference: ReturnType<typeof createPrescanner>, bits: number, text: string): void => {
    const a = own.scan(text);
    const b = reference.scan(text);
    expect(a.text).toBe(b.text);
    expect(a.hits).toEqual(b.hits);
    for (let bit = 0; bit < bits; bit++) expect([bit, a.hasShape(bit)]).toEqual([bit, b.hasShape(bit)]);
  };

  it('finds words and shapes on either side of every 64-character block edge', () => {
    const values = ' member id 536-90-4399 PID|3|x *MI*1A23B45C67D REF*SY*123456 XX*1234567893 S72.001A date of birth';
    let found = 0;
    for (let offset = 0; offset < 140; offset++) {
      const text = `${'y'.repeat(offset)}${values}${offset % 3 === 0 ? ` ${'z'.repeat(61 + (offset % 7))}` : ''} patient`;
      agree(wasm, javascript, automaton.included.length, text);
      agree(wasm, javascript, automaton.included.length, text.slice(0, text.length - (offset % 11)));
      for (let bit = 0; bit < automaton.included.length; bit++) if (wasm.scan(text).hasShape(bit)) found++;
    }
    // every shape in `values` is found at every offset (SSN, PID, *MI*, REF*SY*, XX*, ICD-10 with its 7th character, MBI)
    expect(found).toBeGreaterThanOrEqual(140 * 8);
  });

  it('skips words of 64 characters or more, and finds keywords right after them', () => {
    for (const length of [62, 63, 64, 65, 127, 128, 129, 200]) {
      const text = `${'a'.repeat(length)} diagnosis ${'b'.repeat(length)}diagnosis ${'C'.repeat(length)}`;
      agree(wasm, javascript, automaton.included.length, text);
      expect(wasm.scan(text).hits.map((h) => h.word)).toEqual(['diagnosis']);
    }
  });

  it('reads every character when a shape has no ASCII-only step near its start', () => {
    const broad = requiredShape(/[^a-z][^b][^b][^b][^b][^b][^b][^b][^b][^b]\d/g) as ShapeStep[];
    const custom = buildShapeAutomaton([broad, requiredShape(/\d{3}-\d{2}-\d{4}/g) as ShapeStep[]]);
    expect(custom.gated).toBe(false);
    const own = createPrescanner(index, custom);
    const reference = createPrescanner(index, custom, { javascript: true });
    for (const text of ['é'.repeat(10) + '1', 'xyz 536-90-4399', 'é'.repeat(9) + '1', 'A'.repeat(200) + '7', texts()[20]?.[1] ?? '']) agree(own, reference, 2, text);
    expect(own.scan('é'.repeat(10) + '1').hasShape(0)).toBe(true);
  });

  it('anchors the bundled shapes on rare characters, close to their start', () => {
    // What makes the gate worth having: no lower-case letter, no space, a short reach.
    expect(automaton.gated).toBe(true);
    expect(automaton.digitReach).toBe(1);
    expect(automaton.reach).toBeLessThanOrEqual(3);
    const anchors = [...automaton.anchors.keys()].filter((c) => automaton.anchors[c]).map((c) => String.fromCharCode(c));
    expect(anchors.filter((c) => /[a-z0-9\s]/.test(c))).toEqual([]);
    expect(anchors).toEqual(expect.arrayContaining(['|', '*']));
  });

  it('gives back the memory a huge text took, and goes on with the same tables', () => {
    const own = createPrescanner(index, automaton);
    const before = own.memoryBytes();
    const huge = `SSN: 536-90-4399 ${'member id W123 '.repeat(1_400_000)}date of birth 01/02/1950`; // 21 M characters, 42 MB
    const a = own.scan(huge);
    expect(a.hits.length).toBeGreaterThan(1_400_000);
    expect(a.hits[a.hits.length - 1]?.word).toBe('date of birth');
    expect(own.memoryBytes()).toBeLessThan(before + 33 * 1024 * 1024);
    for (const text of texts().slice(0, 40).map(([, t]) => t)) {
      const b = own.scan(text);
      const c = javascript.scan(text);
      expect(b.hits).toEqual(c.hits);
      for (let bit = 0; bit < automaton.included.length; bit++) expect(b.hasShape(bit)).toBe(c.hasShape(bit));
    }
  });
});

describe('keywords matched without their regex', () => {
  /** The regex answer: the first candidate whose sticky regex matches at `start`. */
  const byRegex = (candidates: readonly Candidate[], text: string, start: number): KeywordHit | undefined => {
    for (const c of candidates) {
      c.verify.lastIndex = start;
      const m = c.verify.exec(text);
      if (m) return { start, end: start + m[0].length, word: c.word };
    }
    return undefined;
  };
  const variants = (word: string): string[] => {
    const out = [word, word.toUpperCase(), word.replace(/\b\w/g, (c) => c.toUpperCase())];
    for (const sep of ['', '-', '_', '  ', '   ', '    ', '\t', '\n', ' - ', '\u00a0', '.']) out.push(word.replace(/ /g, sep));
    return out.flatMap((v) => [v, `${v}x`, `${v}1`, `${v}.`, `${v} `, `${v}-x`, v.slice(0, -1)]);
  };

  it('give the regex answer for every bundled keyword, in every case, spacing and ending', () => {
    let compared = 0;
    for (const [key, candidates] of index.byFirstWord) {
      for (const cand of candidates) {
        for (const v of variants(cand.word)) {
          const text = `see ${v} 536-90-4399`;
          // A list is consulted where the word starting there has its hash.
          const word = /[A-Za-z0-9]+/y;
          word.lastIndex = 4;
          if (hashWord(word.exec(text)?.[0].toLowerCase() ?? '') !== key) continue;
          expect([cand.word, v, keywordIn(candidates, text, 4)]).toEqual([cand.word, v, byRegex(candidates, text, 4)]);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(5_000);
  });

  it('are found by the WebAssembly pass as by the regex, for every bundled keyword in every spelling', () => {
    // prescan.wat confirms keywords of letters and digits itself; one text per keyword, all spellings
    let compared = 0;
    for (const candidates of index.byFirstWord.values()) {
      for (const cand of candidates) {
        const spellings = [...variants(cand.word), `${cand.word.replace(/ /g, '\u1680')}`, `${cand.word.replace(/ /g, ' \u00a0')}`];
        const text = spellings.map((v) => `see ${v} 536-90-4399`).join(' / ');
        const expected = javascript.scan(text).hits;
        expect([cand.word, wasm.scan(text).hits]).toEqual([cand.word, expected]);
        compared += expected.length;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
    // Some first words share a bucket, so the table prescan.wat probes for them is used too.
    const buckets = [...index.byFirstWord.keys()].map(bucketOf);
    expect(new Set(buckets).size).toBeLessThan(buckets.length);
  });
});

describe('pattern shapes', () => {
  const render = (shape: readonly ShapeStep[] | undefined): string | undefined =>
    shape?.map((s) => {
      const members = [...Array(128).keys()].filter((c) => s.set[c]);
      const digits = members.filter((c) => c >= 48 && c <= 57).length === 10 && members.length === 10;
      const body = digits ? 'd' : members.length <= 4 ? members.map((c) => String.fromCharCode(c)).join('') : `${members.length}`;
      return `${body}${s.set[128] ? '+' : ''}${s.optional ? '?' : ''}`;
    }).join(' ');

  it.each([
    [/(?<![\w.\-/])\d{3}-\d{2}-\d{4}(?!\w)/g, 'd d d - d d - d d d d'],
    [/(?:\d{3}-\d{2}-\d{4}|\d{3}\.\d{2}\.\d{4})/g, 'd d d -. d d -. d d d d'],
    [/\d{1,2}\/\d{1,2}\/(?:\d{4}|\d{2})/g, 'd d? / d d? / d d'], // trailing optional steps constrain nothing,
    [/\d{4}[- ]?[A-Z]/g, 'd d d d  -? 26'],
    [/REF\*SY\*(?<value>\d{9})/g, 'R E F * S Y * d d d d d d'],
    [/ssn/gi, 'Ss Ss Nn'],
    [/[^a-z]\d\d/g, '102+ d d'],
    [/\d+-\d/g, undefined], // one fixed position: too short to be worth a state
    [/\d{2,}x\d\d\d/g, undefined], // open-ended repeat: the shape ends there
    [/(a|bc)de/g, 'ab c? d e'],
    [/ab(?=c)de/g, 'a b d e'],
  ])('%s → %s', (regex, expected) => {
    expect(render(requiredShape(regex))).toBe(expected);
  });

  it('occur in every rule example the pattern matches (a shape may let more through, never less)', () => {
    let checked = 0;
    for (const rule of rules) {
      for (const pattern of rule.patterns) {
        const shape = requiredShape(pattern.regex);
        if (!shape) continue;
        const single = buildShapeAutomaton([shape]);
        for (const example of [...rule.examples.match, ...rule.examples.noMatch]) {
          pattern.regex.lastIndex = 0;
          if (!pattern.regex.test(example)) continue;
          pattern.regex.lastIndex = 0;
          expect([rule.id, pattern.name, example, shapesIn(single, example)]).toEqual([rule.id, pattern.name, example, 1n]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it.each([
    ['call 512-555-0100 or fax 512.555.0101', 'ssn dashed'],
    ['order 2024-05-01, ref 12-34-5678', 'ssn dashed'],
    ['tracking 1Z999AA10123456784', 'mbi'],
  ])('%j has no %s shape', (text, what) => {
    const shape = what === 'ssn dashed' ? requiredShape(/(?:\d{3}-\d{2}-\d{4}|\d{3}\.\d{2}\.\d{4})/g) : requiredShape(/[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}/g);
    expect(shapesIn(buildShapeAutomaton([shape as ShapeStep[]]), text)).toBe(0n);
  });

  it('an automaton too large for its tables leaves the broadest shapes ungated', () => {
    const many = Array.from({ length: 80 }, (_, i) => requiredShape(new RegExp(`${String.fromCharCode(65 + (i % 26))}\\d{${3 + (i % 5)}}[a-z]{2}`, 'g')) as ShapeStep[]);
    const built = buildShapeAutomaton(many);
    expect(built.included.length).toBeLessThanOrEqual(64);
    expect(built.included.length).toBeGreaterThan(0);
    expect(built.acceptLow.length).toBeLessThanOrEqual(4096);
  });
});

describe('the engine with either prescan', () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const today = new Date('2026-11-24T00:00:00Z');
  const fast = createEngine(rules, key, { today });
  const slow = createEngine(rules, key, { today, javascriptPrescan: true });

  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? files(p) : [p];
    });

  const agree = (inputs: string[]): number => {
    let findings = 0;
    for (const text of inputs) {
      const segment = { location: 'body', item: 'body', format: 'text', text } as const;
      const a = fast.scanAll(segment);
      expect(a).toEqual(slow.scanAll(segment));
      expect(fast.redact(text.slice(0, 2000))).toBe(slow.redact(text.slice(0, 2000)));
      findings += a.length;
    }
    return findings;
  };

  it('finds the same in the demo archive', () => {
    const inputs: string[] = files(path.join('fixtures', 'demo', 'eml')).map((f) => readFileSync(f, 'utf8'));
    expect(inputs.length).toBeGreaterThan(30);
    expect(agree(inputs)).toBeGreaterThan(100);
  });

  // Optional corpora beside the checkout: a fresh clone skips these loudly.
  for (const [corpus, limit] of [
    ['mime-torture/mime-torture.mbox', Infinity],
    ['enron-sample/enron-sample.mbox', 2000],
  ] as const) {
    it(`finds the same in ${corpus} (${limit === Infinity ? 'every message' : `the first ${limit} messages`})`, () => {
      const file = path.join(CORPORA, corpus);
      if (!optionalCorpus(file, existsSync(file))) return;
      const inputs = readFileSync(file, 'utf8').split(/\n(?=From )/).slice(0, limit);
      expect(inputs.length).toBeGreaterThan(100);
      expect(agree(inputs)).toBeGreaterThanOrEqual(0);
    });
  }
});

describe('a runtime without WebAssembly (node --jitless)', () => {
  it('scans the demo archive to the same findings, through the JavaScript prescan', { timeout: 60_000 }, async () => {
    const args = ['scan', 'mbox:fixtures/demo/mbox', '--format', 'jsonl', '--min-confidence', 'low'];
    const [normal, jitless] = await Promise.all([runCli(args), runCli(args, { env: { NODE_OPTIONS: '--jitless' } })]);
    const findings = (stdout: string): string[] =>
      jsonLines(stdout)
        .filter((r) => r.type === 'finding')
        .map((r) => JSON.stringify(r))
        .sort();
    expect(normal.code).toBe(jitless.code);
    // Node says it turns WebAssembly off, and the scan says once that its prescan is the slower
    // JavaScript one (a visible fallback, not a silent one); nothing else is printed.
    const warning = 'phi-scan: warning: the fast (WebAssembly) prescan is off because this Node.js runs without WebAssembly (--jitless?): findings are the same, the scan is slower\n';
    expect(jitless.stderr.replace(/^Warning: disabling flag --expose_wasm.*\n/m, '')).toBe(warning + normal.stderr);
    expect(findings(jitless.stdout).length).toBeGreaterThan(50);
    expect(findings(jitless.stdout)).toEqual(findings(normal.stdout));
  });
});
