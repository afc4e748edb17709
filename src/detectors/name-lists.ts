/**
 * The vendored public-domain name lists (data/names/, see its SOURCE.md): US Census 2010 surnames
 * and SSA first names, lower case. Read from the package's own folder the first time a name rule
 * asks (synchronously: detectors are synchronous), never downloaded.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/detectors/ and dist/detectors/ are both two levels below the package root.
const DATA_DIR = new URL('../../data/names/', import.meta.url);

function readList(file: string): ReadonlySet<string> {
  const text = readFileSync(fileURLToPath(new URL(file, DATA_DIR)), 'utf8');
  return new Set(text.split('\n').filter((w) => w !== ''));
}

let surnames: ReadonlySet<string> | undefined;
let firstNames: ReadonlySet<string> | undefined;

/** The 20,000 most frequent surnames of the 2010 US Census. */
export function isListedSurname(word: string): boolean {
  surnames ??= readList('surnames.txt');
  return surnames.has(word.toLowerCase());
}

/** First names given to at least 2,000 US babies 1880–2023 (SSA). */
export function isListedFirstName(word: string): boolean {
  firstNames ??= readList('first-names.txt');
  return firstNames.has(word.toLowerCase());
}
