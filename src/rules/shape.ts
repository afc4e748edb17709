/**
 * The start every match of a pattern must have, as steps of one set of characters each, some
 * of them optional: `\d{3}-\d{2}-\d{4}` → digit, digit, digit, `-`, digit, ...; `\d{1,2}/` →
 * digit, optional digit, `/`. The engine finds all patterns' shapes in its one pass over a
 * segment (engine/shapes.ts) and runs a pattern only on segments where its shape occurs: most of
 * a mailbox holds no `ddd-dd-dddd`, and a V8 regex run over a whole text costs about 1 ms per MB
 * even when it finds nothing.
 *
 * A shape may match more than the pattern (lookarounds are left out, alternatives are merged
 * position by position), never less: a text without the shape has no match.
 */
import { regexTree, ZERO_WIDTH_GROUPS as ZERO_WIDTH, type RegexNode as Node } from './regex-ast.js';

/** Symbols 0–127 are ASCII characters; OTHER stands for every character above. */
export const OTHER = 128;
export const SYMBOLS = 129;

/** The symbols a position accepts, as a 129-entry membership array. */
export type SymbolSet = readonly boolean[];

/** One position of a shape; an optional one may be skipped (`-?`, the second digit of `\d{1,2}`). */
export interface ShapeStep {
  readonly set: SymbolSet;
  readonly optional: boolean;
}

/** Steps after this many are not worth automaton states. */
const MAX_SHAPE_LENGTH = 13;
/** A quantifier's optional repeats are modeled up to this many (`\d{1,2}`), beyond it the shape ends. */
const MAX_OPTIONAL_REPEATS = 4;

interface Piece {
  readonly steps: ShapeStep[];
  /** Did the node have one fixed length, so what follows it still lines up? */
  readonly complete: boolean;
}

function emptySet(): boolean[] {
  return new Array<boolean>(SYMBOLS).fill(false);
}

function fullSet(): boolean[] {
  return new Array<boolean>(SYMBOLS).fill(true);
}

function addCode(set: boolean[], code: number, ignoreCase: boolean): void {
  if (code >= 128) {
    set[OTHER] = true;
    return;
  }
  set[code] = true;
  if (ignoreCase) {
    if (code >= 65 && code <= 90) set[code + 32] = true;
    else if (code >= 97 && code <= 122) set[code - 32] = true;
  }
}

/** `\d`, `\w`, `\s` and their negations (without the u flag: ASCII, but \s covers Unicode spaces). */
function escapeSet(kind: string): boolean[] {
  const set = emptySet();
  const lower = kind.toLowerCase();
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    set[c] = lower === 'd' ? /\d/.test(ch) : lower === 'w' ? /\w/.test(ch) : /\s/.test(ch);
  }
  set[OTHER] = lower === 's'; // Unicode spaces are \s; no other non-ASCII character is \d or \w
  if (kind !== lower) for (let s = 0; s < SYMBOLS; s++) set[s] = !set[s] || s === OTHER;
  return set;
}

function classSet(node: Node, ignoreCase: boolean): boolean[] | undefined {
  const set = emptySet();
  for (const item of (node.body as Node[] | undefined) ?? []) {
    if (item.type === 'value' && item.codePoint !== undefined) addCode(set, item.codePoint, ignoreCase);
    else if (item.type === 'characterClassRange') {
      const range = item as unknown as { min: Node; max: Node };
      const from = range.min.codePoint ?? 0;
      const to = range.max.codePoint ?? 0;
      for (let c = from; c <= to && c < 128; c++) addCode(set, c, ignoreCase);
      if (to >= 128) set[OTHER] = true;
    } else if (item.type === 'characterClassEscape' && item.value) {
      const e = escapeSet(item.value);
      for (let s = 0; s < SYMBOLS; s++) if (e[s]) set[s] = true;
    } else return undefined; // something this reader does not know: no shape
  }
  if (node.negative) for (let s = 0; s < SYMBOLS; s++) set[s] = !set[s] || s === OTHER;
  return set;
}

const step = (set: boolean[], optional = false): ShapeStep => ({ set, optional });

function sequence(nodes: readonly Node[], ignoreCase: boolean): Piece {
  const steps: ShapeStep[] = [];
  for (const n of nodes) {
    const p = piece(n, ignoreCase);
    steps.push(...p.steps);
    if (!p.complete || steps.length >= MAX_SHAPE_LENGTH) return { steps: steps.slice(0, MAX_SHAPE_LENGTH), complete: false };
  }
  return { steps, complete: true };
}

/** The steps up to the first optional one. */
function requiredPrefix(steps: readonly ShapeStep[]): ShapeStep[] {
  const i = steps.findIndex((s) => s.optional);
  return i === -1 ? [...steps] : steps.slice(0, i);
}

function piece(node: Node, ignoreCase: boolean): Piece {
  switch (node.type) {
    case 'value': {
      const set = emptySet();
      addCode(set, node.codePoint ?? 0, ignoreCase);
      return { steps: [step(set)], complete: true };
    }
    case 'characterClass': {
      const set = classSet(node, ignoreCase);
      return set ? { steps: [step(set)], complete: true } : { steps: [], complete: false };
    }
    case 'characterClassEscape':
      return { steps: [step(escapeSet(node.value ?? ''))], complete: true };
    case 'dot': {
      const set = fullSet();
      set[10] = false;
      set[13] = false;
      return { steps: [step(set)], complete: true };
    }
    case 'anchor':
      return { steps: [], complete: true };
    case 'alternative':
      return sequence(node.body as Node[], ignoreCase);
    case 'group':
      if (ZERO_WIDTH.has(node.behavior ?? '')) return { steps: [], complete: true };
      return sequence(node.body as Node[], ignoreCase);
    case 'quantifier': {
      const body = (node.body as Node[])[0];
      const min = node.min ?? 0;
      const max = node.max ?? Infinity;
      if (!body) return { steps: [], complete: false };
      const once = piece(body, ignoreCase);
      const steps: ShapeStep[] = [];
      for (let i = 0; i < min && steps.length < MAX_SHAPE_LENGTH; i++) {
        steps.push(...once.steps);
        if (!once.complete) return { steps, complete: false };
      }
      if (max === min) return { steps, complete: true };
      // `x?`, `\d{1,2}`: a single position repeated a few more times, each skippable.
      const single = once.complete && once.steps.length === 1 && !(once.steps[0] as ShapeStep).optional;
      if (!single || max - min > MAX_OPTIONAL_REPEATS) return { steps, complete: false };
      for (let i = min; i < max; i++) steps.push(step([...(once.steps[0] as ShapeStep).set], true));
      return { steps, complete: true };
    }
    case 'disjunction': {
      // Merged position by position. Alternatives of different lengths: the positions past the
      // shortest become optional (`\d{4}|\d{2}` → two digits, then two optional ones).
      const alternatives = (node.body as Node[]).map((a) => piece(a, ignoreCase));
      const plain = alternatives.every((a) => a.complete && a.steps.every((st) => !st.optional));
      const parts = plain ? alternatives.map((a) => a.steps) : alternatives.map((a) => requiredPrefix(a.steps));
      const shortest = Math.min(...parts.map((p) => p.length));
      const length = plain ? Math.max(...parts.map((p) => p.length)) : shortest;
      const steps: ShapeStep[] = [];
      for (let i = 0; i < length; i++) {
        const set = emptySet();
        for (const p of parts) for (let s = 0; s < SYMBOLS; s++) if (p[i]?.set[s]) set[s] = true;
        steps.push(step(set, i >= shortest));
      }
      return { steps, complete: plain };
    }
    default:
      return { steps: [], complete: false }; // back-references and the like: the shape ends here
  }
}

/**
 * The shape of a pattern, or undefined when it has fewer than `minLength` required positions.
 * Trailing optional steps are left out: they constrain nothing.
 */
export function requiredShape(regex: RegExp, minLength = 3): ShapeStep[] | undefined {
  const tree = regexTree(regex);
  if (!tree || /[uvsm]/.test(tree.flags)) return undefined;
  const { ast, flags } = tree;
  const steps = piece(ast, flags.includes('i')).steps.slice(0, MAX_SHAPE_LENGTH);
  while (steps.length > 0 && (steps[steps.length - 1] as ShapeStep).optional) steps.pop();
  return steps.filter((s) => !s.optional).length >= minLength ? steps : undefined;
}
