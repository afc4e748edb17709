/**
 * The longest literal every match of a pattern must contain (`PID`, `*MI*`, `REF*SY*`), so the
 * engine can skip a pattern with one `includes()` when a text lacks it: a pattern run over a
 * whole text costs ~1 ms per MB even when it finds nothing, and most mail holds no HL7 or X12.
 * (Patterns with a shape (shape.ts) are gated by the prescan instead; this is the fallback.)
 */
import { regexTree, ZERO_WIDTH_GROUPS, type RegexNode as Node } from './regex-ast.js';

/** Undefined when no literal of at least `minLength` characters is required, or the pattern ignores case. */
export function requiredLiteral(regex: RegExp, minLength = 2): string | undefined {
  // Case-insensitive patterns would need a case-folded text to test against: not worth it.
  if (regex.flags.includes('i')) return undefined;
  const tree = regexTree(regex);
  if (!tree) return undefined;
  const { ast } = tree;
  // Only the top-level sequence: a literal inside an alternative or a quantified group is optional.
  const terms: readonly Node[] = ast.type === 'alternative' ? (ast.body as Node[]) : [ast];
  let best = '';
  let run = '';
  for (const t of terms) {
    if (t.type === 'value' && t.codePoint !== undefined) {
      run += String.fromCodePoint(t.codePoint);
      if (run.length > best.length) best = run;
    } else if (t.type === 'anchor' || (t.type === 'group' && ZERO_WIDTH_GROUPS.has(t.behavior ?? ''))) {
      // consumes nothing: the characters on either side stay adjacent in the match
    } else run = '';
  }
  return best.length >= minLength ? best : undefined;
}
