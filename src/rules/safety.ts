/**
 * Catastrophic backtracking check for rule patterns (V8 regexes have no timeout).
 * redos-detector explores the pattern exhaustively; a large alternation (month names, keyword
 * lists) exceeds its step budget without being dangerous, so a structural rule runs first:
 * no unbounded repetition (`*`, `+`, `{n,}`) of something that itself repeats, which excludes
 * the classic `(a+)+` and `(\d+-?)*` shapes. (A bounded repetition of delimited fields, such as
 * HL7's `(?:\|[^|]*){18}`, cannot be split two ways and is allowed.)
 */
import { createRequire } from 'node:module';
import type { AstNode } from 'regjsparser';
import { parseRegex } from './regex-ast.js';

/** `*`, `+`, `{n,}`: a quantifier without an upper bound. */
function repeatsUnbounded(node: AstNode<{ lookbehind: true; namedGroups: true; unicodePropertyEscape: true }>): boolean {
  return node.type === 'quantifier' && node.max === undefined;
}

function containsRepeat(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsRepeat);
  if (node === null || typeof node !== 'object') return false;
  const n = node as { type?: string; body?: unknown; max?: number };
  if (n.type === 'quantifier' && (n.max === undefined || n.max > 1)) return true;
  const body = n.body;
  if (Array.isArray(body)) return body.some(containsRepeat);
  return containsRepeat(body);
}

function hasNestedRepeat(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasNestedRepeat);
  if (node === null || typeof node !== 'object') return false;
  const n = node as AstNode<{ lookbehind: true; namedGroups: true; unicodePropertyEscape: true }> & { body?: unknown };
  if (repeatsUnbounded(n) && containsRepeat((n as { body?: unknown }).body)) return true;
  const body = (n as { body?: unknown }).body;
  if (Array.isArray(body)) return body.some(hasNestedRepeat);
  return hasNestedRepeat(body);
}

/**
 * Why a pattern may backtrack catastrophically, or undefined when it is linear. Both checks
 * must pass: the structural rule (no unbounded repetition of something that itself repeats),
 * and redos-detector's search unless it ran out of steps on a large but flat alternation.
 */
export function backtrackingRisk(regex: RegExp): string | undefined {
  // Only flags that change what matches matter; named groups do not change backtracking.
  const { ast, flags, source } = parseRegex(regex);
  if (hasNestedRepeat(ast)) return 'an unbounded repetition contains a repeating quantifier';
  // Loaded on the first check (user rules only): most processes never need it.
  const { isSafe } = createRequire(import.meta.url)('redos-detector') as typeof import('redos-detector');
  const verdict = isSafe(new RegExp(source, flags), { maxSteps: 2000, timeout: 3000 });
  if (verdict.safe || verdict.error === 'hitMaxSteps' || verdict.error === 'timedOut') return undefined;
  return verdict.error ?? 'unsafe';
}
