/**
 * One deterministic automaton for the shapes of many patterns (rules/shape.ts), run by the
 * prescan over every character of a segment: it tells which shapes occur, so the engine skips
 * the patterns whose shape does not. Built once per engine by subset construction over the
 * character classes the shapes tell apart; a state holds the partial matches in progress and
 * the shapes just completed.
 */
import { OTHER, SYMBOLS, type ShapeStep } from '../rules/shape.js';

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
}

/** Beyond this the tables stop being small; the broadest shapes are left out until it fits. */
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

function tryBuild(shapes: readonly (readonly ShapeStep[])[]): ShapeAutomaton | undefined {
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
    included: [],
  };
}

/** How much text a shape lets through: the broadest are dropped first when the automaton is too big. */
function breadth(shape: readonly ShapeStep[]): number {
  let product = 1;
  for (const st of shape) if (!st.optional) product *= st.set.filter(Boolean).length / SYMBOLS;
  return product;
}

/**
 * The automaton for as many of `shapes` (in priority order) as fit. When they do not, the
 * broadest quarter is left out and the rest tried again: a user's rule folder full of broad
 * shapes then costs a few failed builds, not one per shape.
 */
export function buildShapeAutomaton(shapes: readonly (readonly ShapeStep[])[]): ShapeAutomaton {
  let included = shapes.map((_, i) => i).slice(0, MAX_SHAPES);
  for (;;) {
    const built = tryBuild(included.map((i) => shapes[i] as ShapeStep[]));
    if (built) return { ...built, included };
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
