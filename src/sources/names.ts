/**
 * Mailbox names that collide. An archive's mailbox is named after its file or folder, so two
 * archives of one run (`mbox:a/2019.mbox mbox:b/2019.mbox`, or two `Inbox` files of a folder of
 * Thunderbird profiles) would be reported as one mailbox: two people's mail under one name in
 * every report and remediation list. Each then gets the parent folders that tell it apart
 * (`a/2019`, `b/2019`). Names given with `--mailbox` are the user's word and stay as they are.
 */
import path from 'node:path';
import type { SourceUnit } from '../model/message.js';

/** Renames units whose derived mailbox name is shared with different mail; others stay as they are. */
export function distinctMailboxNames<T extends { readonly unit: SourceUnit }>(work: readonly T[]): T[] {
  // What each name stands for: archives by path, other mailboxes (IMAP, Graph, --mailbox) by source.
  const owners = new Map<string, Set<string>>();
  for (const { unit } of work) {
    const owner = unit.origin ?? `source:${unit.source}`;
    const set = owners.get(unit.mailbox) ?? new Set<string>();
    set.add(owner);
    owners.set(unit.mailbox, set);
  }
  const renamed = new Map<string, string>(); // origin → its new name
  for (const [name, set] of owners) {
    if (set.size < 2) continue;
    const origins = [...set].filter((o) => !o.startsWith('source:')).sort();
    const taken = new Set(owners.keys());
    for (const [origin, distinct] of tellApart(name, origins, taken)) renamed.set(origin, distinct);
  }
  if (renamed.size === 0) return [...work];
  return work.map((w) => {
    const name = w.unit.origin === undefined ? undefined : renamed.get(w.unit.origin);
    return name === undefined ? w : { ...w, unit: { ...w.unit, mailbox: name } };
  });
}

/** The fewest parent folders that make every origin's name distinct (and new); a number as a last resort. */
function tellApart(name: string, origins: readonly string[], taken: ReadonlySet<string>): Map<string, string> {
  const parents = origins.map((o) => path.dirname(o).split(path.sep).filter(Boolean));
  const deepest = Math.max(0, ...parents.map((p) => p.length));
  for (let k = 1; k <= deepest; k++) {
    const names = parents.map((p) => [...p.slice(-k), name].join('/'));
    if (new Set(names).size === names.length && names.every((n) => !taken.has(n))) {
      return new Map(origins.map((o, i) => [o, names[i] as string]));
    }
  }
  // Same folder, same name but for the extension (`2019` and `2019.mbox`): numbered in path order.
  return new Map(origins.map((o, i) => [o, `${name} (${i + 1})`]));
}
