/** Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by area. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_DIR, ROOT } from './runtime.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly areas: readonly ProfileEntry[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  let p = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm !== -1) return p.slice(nm + '/node_modules/'.length);
  if (p.startsWith(BUILD_DIR)) p = path.relative(BUILD_DIR, p);
  else if (p.startsWith(ROOT)) p = path.relative(ROOT, p);
  return p;
}

/** src/engine/engine.js → src/engine; mailparser/lib/x.js → mailparser; node:internal/... → node internals. */
function areaOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/builtin)';
  const u = shortUrl(url);
  if (u.startsWith('node:')) return 'node internals';
  if (u.startsWith('src/')) return u.replace(/\.js$/, '.ts');
  if (u.startsWith('bench/')) return 'bench';
  const parts = u.split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? u);
}

function top(map: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfMs: us / 1000, percent: (100 * us) / total }));
}

export function summarizeProfile(file: string, n = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] as number);
    if (!node) continue;
    // The time until the next sample is spent where this sample was taken.
    const us = Math.max(0, deltas[i + 1] ?? 0);
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? ` ${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = areaOf(node);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  return { file, totalMs: total / 1000, functions: top(fn, total, n), areas: top(area, total, n) };
}
