/** The Microsoft Graph source as the registry (../registry.ts) knows it. */
import { graphSource, parseGraphSpec } from '../graph.js';
import type { Source, SourceDefinition } from '../types.js';
import { newGraphStats, type GraphStats } from './http.js';
import { GraphSettingsSchema, type GraphSettings } from './options.js';

/** Graph jobs of one tenant running at once across all queue workers (each: at most 4 requests). */
const JOBS_PER_TENANT = 8;

export const graphDefinition: SourceDefinition<GraphSettings> = {
  name: 'graph',
  schemes: ['graph'],
  needsPath: false,
  settings: GraphSettingsSchema,
  create(spec, settings, options, runtime): Source {
    const stats = newGraphStats();
    const source = graphSource(spec, {
      ...options,
      graph: {
        ...settings,
        env: runtime.env,
        stats,
        ...(runtime.log ? { log: runtime.log } : {}),
        ...(runtime.beforeRequest ? { beforeRequest: runtime.beforeRequest } : {}),
      },
    });
    const { summary } = runtime;
    if (!summary) return source;
    // Requests, retries and time waited (counts only) once the source is done.
    return {
      ...source,
      async close() {
        await source.close?.();
        summary(graphSummary(stats));
      },
    };
  },
  // A mailbox's folders in one job: its at most 4 requests in flight (Exchange's per-mailbox
  // limit) hold however many workers there are.
  jobs: 'mailbox',
  listsUnitsOnWorker: true,
  limit: (spec) => ({ key: `graph:${parseGraphSpec(spec).tenant.toLowerCase()}`, slots: JOBS_PER_TENANT }),
  rateKey: (spec) => `graph-rate:${parseGraphSpec(spec).tenant.toLowerCase()}`,
};

export function graphSummary(s: GraphStats): string {
  return `graph: ${s.requests} requests (${s.batchSteps} in $batch), ${s.retries} retries (${s.throttled} throttled or busy, ${s.networkErrors} connection failures), waited ${(s.waitedMs / 1000).toFixed(1)} s`;
}
