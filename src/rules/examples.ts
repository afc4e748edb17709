/**
 * A rule's own `examples`, run through the engine: each `match` must give a finding (a signal,
 * for context rules) of that rule at medium or above, no `noMatch` may. `rules check DIR` fails
 * on a mismatch, and a scan warns, so a rule that does not do what its file says is never loaded
 * silently.
 */
import { createEngine } from '../engine/engine.js';
import { confidenceRank } from '../model/finding.js';
import type { Rule } from './compile.js';

export interface ExampleFailure {
  readonly file: string;
  readonly rule: string;
  readonly kind: 'match' | 'noMatch';
  /** Index in `examples.match` / `examples.noMatch`. */
  readonly index: number;
  /**
   * The example with every identifier candidate masked, and every other digit but the last 4 too:
   * an example that does not match is exactly a value the engine does not recognise to mask.
   */
  readonly redacted: string;
}

function maskExample(text: string): string {
  let keep = 4;
  const out: string[] = [];
  for (let i = text.length - 1; i >= 0; i--) {
    const ch = text[i] as string;
    if (ch >= '0' && ch <= '9') out.push(keep-- > 0 ? ch : '•');
    else out.push(ch);
  }
  return out.reverse().join('');
}

/** Runs the examples of `checked` with the engine of `all` (so signals from other rules count, as in a scan). */
export function checkExamples(all: readonly Rule[], checked: readonly Rule[]): ExampleFailure[] {
  const engine = createEngine(all, Buffer.from('phi-scan rule examples'));
  const reported = (text: string): Set<string> =>
    new Set(
      engine
        .scanAll({ location: 'body', item: 'body', format: 'text', text })
        .filter((h) => confidenceRank(h.finding.confidence) >= confidenceRank('medium'))
        .map((h) => h.finding.rule),
    );
  const failures: ExampleFailure[] = [];
  for (const rule of checked) {
    rule.examples.match.forEach((text, index) => {
      if (!reported(text).has(rule.id)) failures.push({ file: rule.file, rule: rule.id, kind: 'match', index, redacted: maskExample(engine.redact(text)) });
    });
    rule.examples.noMatch.forEach((text, index) => {
      if (reported(text).has(rule.id)) failures.push({ file: rule.file, rule: rule.id, kind: 'noMatch', index, redacted: maskExample(engine.redact(text)) });
    });
  }
  return failures;
}

export function describeFailure(f: ExampleFailure): string {
  const what = f.kind === 'match' ? 'gives no finding of the rule at medium or above' : 'gives a finding of the rule at medium or above';
  return `${f.file} (rule ${f.rule}): examples.${f.kind}.${f.index} ${what}: ${JSON.stringify(f.redacted)}`;
}
