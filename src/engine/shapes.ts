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
   * Every match of every included shape has a character of `anchors` (ASCII, 1 = in the set)
   * at most `lookahead` characters from its start (`|` in `PID|`, a digit in an SSN): the
   * prescan runs the automaton only from such places. -1 when some shape has no ASCII-only
   * step near its start; then every character is read.
   */
  readonly anchors: Uint8Array;
  readonly lookahead: number;
}

/** Beyond this the tables stop being small; the broadest shapes are left out until it fits. */
const MAX_LOOKAHEAD = 8;
const MAX_STATES = 4096;
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

function tryBuild(shapes: readonly (readonly ShapeStep[])[]): Omit<ShapeAutomaton, 'included' | 'anchors' | 'lookahead'> | undefined {
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
        if (id >= MAX_STATES) return undefined;
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

/** Roughly how often a character occurs in e-mail text: what an anchor set costs the prescan. */
function frequency(c: number): number {
  if (c >= 97 && c <= 122) return 3;
  if (c === 32) return 15;
  if (c === 10 || c === 13) return 2;
  if (c === 46 || c === 44) return 1;
  if (c >= 48 && c <= 57) return 0.3;
  if (c >= 65 && c <= 90) return 0.15;
  if (c === 45 || c === 58 || c === 39 || c === 40 || c === 41 || c === 47 || c === 34) return 0.3;
  return 0.05;
}

/**
 * Per shape, a required step within MAX_LOOKAHEAD of its start whose characters are rare (the
 * anchor), chosen so that together they make a small set: a digit for a date-like shape once
 * SSNs have put the digits in, `|` for `PID|`. A few rounds of each shape choosing the step that
 * adds least to what the others chose.
 */
function chooseAnchors(shapes: readonly (readonly ShapeStep[])[]): { anchors: Uint8Array; lookahead: number } {
  const choices = shapes.map((shape) =>
    shape.flatMap((step, j) => (j > MAX_LOOKAHEAD || step.optional || step.set[OTHER] ? [] : [{ j, set: step.set }])),
  );
  if (choices.some((c) => c.length === 0)) return { anchors: new Uint8Array(128), lookahead: -1 };
  const costOf = (set: SymbolSet, taken: Uint8Array): number => {
    let cost = 0;
    for (let c = 0; c < 128; c++) if (set[c] && !taken[c]) cost += frequency(c);
    return cost;
  };
  const none = new Uint8Array(128);
  const picks = choices.map((cs) => cs.reduce((best, c) => (costOf(c.set, none) < costOf(best.set, none) ? c : best)));
  for (let round = 0; round < 3; round++) {
    picks.forEach((_, k) => {
      const taken = new Uint8Array(128);
      picks.forEach((p, other) => {
        if (other !== k) for (let c = 0; c < 128; c++) if (p.set[c]) taken[c] = 1;
      });
      picks[k] = (choices[k] as { j: number; set: SymbolSet }[]).reduce((best, c) => {
        const d = costOf(c.set, taken) - costOf(best.set, taken);
        return d < 0 || (d === 0 && c.j < best.j) ? c : best;
      });
    });
  }
  const anchors = new Uint8Array(128);
  for (const p of picks) for (let c = 0; c < 128; c++) if (p.set[c]) anchors[c] = 1;
  return { anchors, lookahead: Math.max(0, ...picks.map((p) => p.j)) };
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
