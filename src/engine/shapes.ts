/**
 * One deterministic automaton for the shapes of many patterns (rules/shape.ts), run by the
 * prescan over every character of a segment: it tells which shapes occur, so the engine skips
 * the patterns whose shape does not. Built once per engine by subset construction over the
 * character classes the shapes tell apart; a state holds the partial matches in progress and
 * the shapes just completed.
 */
import { OTHER, SYMBOLS, type ShapeStep, type SymbolSet } from '../rules/shape.js';

export interface ShapeAutomaton {
  /** Class of each ASCII character; every non-ASCII character is class 0. */
  readonly classOf: Uint8Array;
  readonly classCount: number;
  /** Next state: transitions[state * classCount + class]. State 0 is the start. */
  readonly transitions: Uint16Array;
  /** Per state, the shapes completed on entering it: low and high 32 bits of a 64-bit mask. */
  readonly acceptLow: Uint32Array;
  readonly acceptHigh: Uint32Array;
  /** Which of the given shapes have a bit (bit i ↔ shapes[included[i]]); the others are not gated. */
  readonly included: readonly number[];
  /**
   * The gate the prescan runs the automaton behind (prescan.wat's `shapes`): every match of
   * every included shape has a digit at most `digitReach` characters from its start, or a
   * character of `anchors` (ASCII, 1 = in the set: `|` in `PID|`) at most `reach` characters
   * from its start; -1 where that kind of anchor is not used. Not `gated` when some shape has no
   * such step near its start: then every character is read.
   */
  readonly gated: boolean;
  readonly anchors: Uint8Array;
  readonly reach: number;
  readonly digitReach: number;
}

/** How far from a shape's start its anchor may be (chooseAnchors); a digit, only this far. */
const MAX_LOOKAHEAD = 8;
const DIGIT_REACH = 1;
/**
 * Beyond these the tables stop being small; the broadest shapes are left out until they fit.
 * The prescan keeps transitions as 16-bit byte offsets into rows of 2-byte entries (a table
 * that mostly stays in the first-level cache), so states × classes × 2 stays below 65,536.
 */
const MAX_STATES = 4096;
const MAX_TABLE_BYTES = 65536;
const MAX_SHAPES = 64;

function classesOf(shapes: readonly (readonly ShapeStep[])[]): { classOf: number[]; count: number } {
  const key = (symbol: number): string => shapes.map((s) => s.map((st) => (st.set[symbol] ? '1' : '0')).join('')).join('|');
  const byKey = new Map<string, number>();
  // Non-ASCII first, so it is class 0 as the prescan expects.
  byKey.set(key(OTHER), 0);
  const classOf: number[] = [];
  for (let c = 0; c < 128; c++) {
    const k = key(c);
    let cls = byKey.get(k);
    if (cls === undefined) {
      cls = byKey.size;
      byKey.set(k, cls);
    }
    classOf.push(cls);
  }
  return { classOf, count: byKey.size };
}

function tryBuild(shapes: readonly (readonly ShapeStep[])[]): Omit<ShapeAutomaton, 'included' | 'gated' | 'anchors' | 'reach' | 'digitReach'> | undefined {
  const { classOf, count } = classesOf(shapes);
  // A representative symbol of each class, to ask the sets about it.
  const representative: number[] = new Array<number>(count).fill(OTHER);
  for (let c = 127; c >= 0; c--) if (classOf[c] !== 0) representative[classOf[c] as number] = c;
  // accepts[k][j][cls]: does step j of shape k accept class cls?
  const accepts = shapes.map((s) => s.map((st) => representative.map((sym) => st.set[sym] === true)));
  // closures[k][j]: the steps reachable from step j by skipping optional ones (length = complete).
  const closures = shapes.map((s) =>
    s.map((_, j) => {
      const reach = [j];
      for (let p = j; p < s.length && (s[p] as ShapeStep).optional; p++) reach.push(p + 1);
      return reach;
    }),
  );

  // Masks as two 32-bit halves (BigInt arithmetic made the build ten times slower).
  const states: { items: number[]; low: number; high: number }[] = [{ items: [], low: 0, high: 0 }];
  const ids = new Map<string, number>([['|0|0', 0]]);
  const transitions: number[] = [];
  // Items encode (shape k, next step j) as k * 64 + j (shapes are at most 13 steps).
  for (let s = 0; s < states.length; s++) {
    const state = states[s] as { items: number[] };
    for (let cls = 0; cls < count; cls++) {
      const next: number[] = [];
      let low = 0;
      let high = 0;
      const advance = (k: number, j: number): void => {
        const steps = accepts[k] as boolean[][];
        for (const p of (closures[k] as number[][])[j] as number[]) {
          if (p === steps.length || !(steps[p] as boolean[])[cls]) continue;
          if (p + 1 === steps.length) {
            // completed (trailing optional steps were cut off, so the last step is required)
            if (k < 32) low |= 1 << k;
            else high |= 1 << (k - 32);
          } else if (!next.includes(k * 64 + p + 1)) next.push(k * 64 + p + 1);
        }
      };
      for (let k = 0; k < shapes.length; k++) advance(k, 0);
      for (const item of state.items) advance(item >> 6, item & 63);
      next.sort((a, b) => a - b);
      const key = `${next.join(',')}|${low >>> 0}|${high >>> 0}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = states.length;
        if (id >= MAX_STATES || (id + 1) * count * 2 >= MAX_TABLE_BYTES) return undefined;
        ids.set(key, id);
        states.push({ items: next, low: low >>> 0, high: high >>> 0 });
      }
      transitions.push(id);
    }
  }
  return {
    classOf: Uint8Array.from(classOf),
    classCount: count,
    transitions: Uint16Array.from(transitions),
    acceptLow: Uint32Array.from(states.map((st) => st.low)),
    acceptHigh: Uint32Array.from(states.map((st) => st.high)),
  };
}

/** How much text a shape lets through: the broadest are dropped first when the automaton is too big. */
function breadth(shape: readonly ShapeStep[]): number {
  let product = 1;
  for (const st of shape) if (!st.optional) product *= st.set.filter(Boolean).length / SYMBOLS;
  return product;
}

/** Roughly how often a character occurs in English e-mail text, per 10,000: what an anchor costs the prescan. */
function frequency(c: number): number {
  if (c >= 97 && c <= 122) return 230;
  if (c === 32) return 2000;
  if (c === 10) return 165;
  if (c >= 65 && c <= 90) return 25;
  if (c >= 48 && c <= 57) return 30;
  if (c === 46) return 115;
  if (c === 45) return 100;
  if (c === 44) return 75;
  if ('|~^`{}\\'.includes(String.fromCharCode(c)) || c < 32 || c === 127) return 2;
  return 20;
}

type Anchor = { readonly j: number; readonly set: SymbolSet; readonly digit: boolean };

/** About how many characters per 10,000 the automaton is started at, given each shape's anchor. */
function gateCost(picks: readonly Anchor[]): number {
  const anchors = new Uint8Array(128);
  let reach = -1;
  let digitReach = -1;
  for (const p of picks) {
    if (p.digit) digitReach = Math.max(digitReach, p.j);
    else {
      reach = Math.max(reach, p.j);
      for (let c = 0; c < 128; c++) if (p.set[c]) anchors[c] = 1;
    }
  }
  let cost = 0;
  for (let c = 0; c < 128; c++) if (anchors[c]) cost += frequency(c) * (reach + 1);
  if (digitReach >= 0) for (let c = 48; c <= 57; c++) if (!anchors[c]) cost += frequency(c) * (digitReach + 1);
  return cost;
}

/**
 * Per shape, a required step near its start whose characters are rare (the anchor), chosen so
 * that together they start the automaton at few places (gateCost): digits for SSNs and MBIs,
 * `|` for `PID|`. A digit anchors only within DIGIT_REACH of the start: digits are common
 * enough in mail that each character more before them costs. A few rounds of each shape taking
 * the step that makes the whole cheapest.
 */
function chooseAnchors(shapes: readonly (readonly ShapeStep[])[]): Pick<ShapeAutomaton, 'gated' | 'anchors' | 'reach' | 'digitReach'> {
  const digits = new Array<boolean>(SYMBOLS).fill(false).map((_, c) => c >= 48 && c <= 57);
  const choices = shapes.map((shape) =>
    shape.flatMap((step, j): Anchor[] => {
      if (j > MAX_LOOKAHEAD || step.optional || step.set[OTHER]) return [];
      const digitsOnly = step.set.every((inSet, c) => !inSet || (digits[c] as boolean));
      if (digitsOnly) return j <= DIGIT_REACH ? [{ j, set: digits, digit: true }] : [];
      return [{ j, set: step.set, digit: false }];
    }),
  );
  if (choices.some((c) => c.length === 0)) return { gated: false, anchors: new Uint8Array(128), reach: -1, digitReach: -1 };
  /** Each shape in turn takes the step that makes the whole cheapest, for a few rounds. */
  const improve = (picks: Anchor[]): Anchor[] => {
    for (let round = 0; round < 3; round++) {
      picks.forEach((current, k) => {
        let best = current;
        let bestCost = gateCost(picks);
        for (const option of choices[k] as Anchor[]) {
          picks[k] = option;
          const cost = gateCost(picks);
          if (cost < bestCost) {
            best = option;
            bestCost = cost;
          }
        }
        picks[k] = best;
      });
    }
    return picks;
  };
  // Two starts, since shapes that share an anchor move together: each shape's cheapest step
  // alone, and digits wherever a shape has them.
  const cheapestAlone = (cs: readonly Anchor[]): Anchor => cs.reduce((best, c) => (gateCost([c]) < gateCost([best]) ? c : best));
  const alone = improve(choices.map(cheapestAlone));
  const digitFirst = improve(choices.map((cs) => cs.find((c) => c.digit) ?? cheapestAlone(cs)));
  const picks = gateCost(digitFirst) < gateCost(alone) ? digitFirst : alone;
  const anchors = new Uint8Array(128);
  for (const p of picks) if (!p.digit) for (let c = 0; c < 128; c++) if (p.set[c]) anchors[c] = 1;
  const reachOf = (digit: boolean): number => Math.max(-1, ...picks.filter((p) => p.digit === digit).map((p) => p.j));
  return { gated: true, anchors, reach: reachOf(false), digitReach: reachOf(true) };
}

/**
 * The automaton for as many of `shapes` (in priority order) as fit. When they do not, the
 * broadest quarter is left out and the rest tried again: a user's rule folder full of broad
 * shapes then costs a few failed builds, not one per shape.
 */
export function buildShapeAutomaton(shapes: readonly (readonly ShapeStep[])[]): ShapeAutomaton {
  let included = shapes.map((_, i) => i).slice(0, MAX_SHAPES);
  for (;;) {
    const chosen = included.map((i) => shapes[i] as ShapeStep[]);
    const built = tryBuild(chosen);
    if (built) return { ...built, included, ...chooseAnchors(chosen) };
    const broadestFirst = [...included].sort((a, b) => breadth(shapes[b] as ShapeStep[]) - breadth(shapes[a] as ShapeStep[]));
    const dropped = new Set(broadestFirst.slice(0, Math.ceil(included.length / 4)));
    included = included.filter((i) => !dropped.has(i));
  }
}

/** The automaton run in JavaScript: the reference the prescan's WebAssembly is tested against. */
export function shapesIn(automaton: ShapeAutomaton, text: string): bigint {
  let state = 0;
  let mask = 0n;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? (automaton.classOf[c] as number) : 0;
    state = automaton.transitions[state * automaton.classCount + cls] as number;
    mask |= (BigInt(automaton.acceptHigh[state] as number) << 32n) | BigInt(automaton.acceptLow[state] as number);
  }
  return mask;
}
