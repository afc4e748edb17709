/**
 * A pattern's regex as a syntax tree (regjsparser), for what literal.ts and shape.ts read off
 * it: what every match must contain or start with.
 */
import regjsparser from 'regjsparser';

const { parse } = regjsparser;

/** The parts of regjsparser's nodes that are read here. */
export interface RegexNode {
  readonly type: string;
  readonly kind?: string;
  readonly codePoint?: number;
  readonly behavior?: string;
  readonly negative?: boolean;
  readonly value?: string;
  readonly min?: number;
  readonly max?: number;
  readonly body?: unknown;
}

/** Groups that match no characters. */
export const ZERO_WIDTH_GROUPS: ReadonlySet<string> = new Set(['lookahead', 'lookbehind', 'negativeLookahead', 'negativeLookbehind']);

/**
 * The tree of a compiled pattern, with the flags and source it was read with (g, y and d left
 * out: they do not change what matches; named groups read as plain groups). Throws when
 * regjsparser cannot read it. The one place regjsparser is set up (safety.ts uses it too).
 */
export function parseRegex(regex: RegExp): { ast: RegexNode; flags: string; source: string } {
  const flags = regex.flags.replace(/[gyd]/g, '');
  const source = regex.source.replace(/\(\?<([A-Za-z_]\w*)>/g, '(?:');
  return { ast: parse(source, flags, { lookbehind: true, namedGroups: true, unicodePropertyEscape: true }) as unknown as RegexNode, flags, source };
}

/** The tree of a compiled pattern and its flags, or undefined if it cannot be read. */
export function regexTree(regex: RegExp): { ast: RegexNode; flags: string } | undefined {
  try {
    const { ast, flags } = parseRegex(regex);
    return { ast, flags };
  } catch {
    return undefined;
  }
}
