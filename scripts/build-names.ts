/**
 * Builds the vendored name lists under data/names/ from the public-domain raw downloads
 * (see data/names/SOURCE.md). Run by hand when the lists are refreshed; nothing downloads at
 * run time and the scanner reads only the built files.
 *
 *   npx tsx scripts/build-names.ts CENSUS_CSV SSA_DIR
 *
 * CENSUS_CSV: `Names_2010Census.csv` of the Census Bureau's "Frequently Occurring Surnames from
 * the 2010 Census" (name,rank,count,...; rows may end in `;`), in rank order.
 * SSA_DIR: the SSA national baby-name files `yobYYYY.txt` (name,sex,count).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The most frequent surnames kept (the 2010 list has 162,253 of 100 or more people). */
export const SURNAMES_KEPT = 20_000;
/** A first name is kept when SSA counts at least this many births under it, all years and both sexes summed. */
export const FIRST_NAME_MIN_BIRTHS = 2_000;

export function surnamesFrom(csv: string, kept: number): string[] {
  const out: string[] = [];
  for (const line of csv.split(/\r?\n/).slice(1)) {
    const name = line.split(',')[0]?.trim() ?? '';
    if (!/^[A-Z][A-Z'-]*$/.test(name) || name === 'ALL OTHER NAMES') continue;
    out.push(name.toLowerCase());
    if (out.length >= kept) break;
  }
  return out;
}

export function firstNamesFrom(files: readonly string[], minBirths: number): string[] {
  const births = new Map<string, number>();
  for (const text of files) {
    for (const line of text.split(/\r?\n/)) {
      const [name, , count] = line.split(',');
      if (!name || !count || !/^[A-Za-z]+$/.test(name)) continue;
      const key = name.toLowerCase();
      births.set(key, (births.get(key) ?? 0) + Number(count));
    }
  }
  return [...births]
    .filter(([, n]) => n >= minBirths)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([name]) => name);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [censusCsv, ssaDir] = process.argv.slice(2);
  if (!censusCsv || !ssaDir) {
    console.error('usage: tsx scripts/build-names.ts CENSUS_CSV SSA_DIR');
    process.exit(2);
  }
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'names');
  const surnames = surnamesFrom(readFileSync(censusCsv, 'utf8'), SURNAMES_KEPT);
  const years = readdirSync(ssaDir).filter((f) => /^yob\d{4}\.txt$/.test(f)).sort();
  const firstNames = firstNamesFrom(years.map((f) => readFileSync(path.join(ssaDir, f), 'utf8')), FIRST_NAME_MIN_BIRTHS);
  writeFileSync(path.join(out, 'surnames.txt'), `${surnames.join('\n')}\n`);
  writeFileSync(path.join(out, 'first-names.txt'), `${firstNames.join('\n')}\n`);
  console.log(`surnames.txt: ${surnames.length} (most frequent first); first-names.txt: ${firstNames.length} from ${years.length} years (${years[0]} .. ${years[years.length - 1]})`);
}
