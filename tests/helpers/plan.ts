/** A remediation plan held in memory, as `openPlan` gives one read from a file (tests of the run itself). */
import type { Plan, PlanFile } from '../../src/remediate/plan.js';

export function planFileOf(plan: Plan): PlanFile {
  const { items, ...header } = plan;
  return {
    header,
    count: items.length,
    needsRoster: items.filter((i) => i.needsRoster).length,
    async *items() {
      yield* items;
    },
  };
}
