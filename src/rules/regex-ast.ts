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

/** The tree of a compiled pattern and its flags (g, y and d left out), or undefined if it cannot be read. */
export function regexTree(regex: RegExp): { ast: RegexNode; flags: string } | undefined {
  const flags = regex.flags.replace(/[gyd]/g, '');
  // Named groups as plain groups: the names do not matter here.
  const source = regex.source.replace(/\(\?<([A-Za-z_]\w*)>/g, '(?:');
  try {
    return { ast: parse(source, flags, { lookbehind: true, namedGroups: true, unicodePropertyEscape: true }) as unknown as RegexNode, flags };
  } catch {
    return undefined;
  }
}
