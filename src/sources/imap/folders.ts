/**
 * Which folders of an account are scanned. Folder names are shown with `/` as separator whatever
 * the server's hierarchy delimiter (RFC 3501 §5.1.1), and globs match those names.
 */

export interface ListedFolder {
  /** The server's path (decoded from modified UTF-7 by imapflow), used to EXAMINE. */
  readonly path: string;
  readonly delimiter: string | null | undefined;
  readonly flags: ReadonlySet<string>;
  readonly specialUse?: string | undefined;
}

export interface FolderFilter {
  /** `--folders`: only folders matching one of these globs. */
  readonly include?: readonly string[];
  /** `--exclude-folders`: never folders matching one of these. */
  readonly exclude?: readonly string[];
}

/** `Archive/2019` whatever the delimiter; INBOX is case-insensitive (RFC 3501 §5.1) and shown as INBOX. */
export function displayName(folder: Pick<ListedFolder, 'path' | 'delimiter'>): string {
  const parts = folder.delimiter ? folder.path.split(folder.delimiter) : [folder.path];
  if (parts[0]?.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return parts.join('/');
}

/**
 * A folder glob: `*` any characters but `/`, `**` any characters, `?` one character but `/`.
 * `INBOX` at the start matches case-insensitively, as the server treats it.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  re = re.replace(/^INBOX(?=\/|$)/i, '(?:[Ii][Nn][Bb][Oo][Xx])');
  return new RegExp(`^${re}$`, 'u');
}

/** `--folders a,b --folders c` → [a, b, c]. */
export function splitGlobs(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((g) => g.trim()).filter((g) => g !== '');
}

/**
 * The folders to scan, in LIST order:
 * - `\Noselect` / `\NonExistent` folders hold no messages (RFC 3501 §7.2.2, RFC 5258 §3.4);
 * - `--exclude-folders` removes, `--folders` keeps only matches;
 * - when no `--folders` is given and the account has a `\All` folder (RFC 6154 §2; Gmail's
 *   "All Mail" holds every message but Junk and Trash once, whatever its labels), only `\All`,
 *   `\Junk` and `\Trash` are scanned: every label folder is a view of messages in `\All`, so
 *   scanning them too would count one message several times.
 */
export function selectFolders(listed: readonly ListedFolder[], filter: FolderFilter): { folder: ListedFolder; name: string }[] {
  const include = splitGlobs(filter.include).map(globToRegExp);
  const exclude = splitGlobs(filter.exclude).map(globToRegExp);
  const selectable = listed
    .filter((f) => !hasFlag(f, '\\Noselect') && !hasFlag(f, '\\NonExistent'))
    .map((folder) => ({ folder, name: displayName(folder) }))
    .filter(({ name }) => !exclude.some((re) => re.test(name)))
    .filter(({ name }) => include.length === 0 || include.some((re) => re.test(name)));
  if (include.length > 0) return selectable;
  const all = selectable.filter(({ folder }) => useOf(folder) === '\\All');
  if (all.length === 0) return selectable;
  return selectable.filter(({ folder }) => ['\\All', '\\Junk', '\\Trash'].includes(useOf(folder) ?? ''));
}

function hasFlag(folder: ListedFolder, flag: string): boolean {
  for (const f of folder.flags) if (f.toLowerCase() === flag.toLowerCase()) return true;
  return false;
}

function useOf(folder: ListedFolder): string | undefined {
  if (folder.specialUse) return folder.specialUse;
  for (const use of ['\\All', '\\Junk', '\\Trash']) if (hasFlag(folder, use)) return use;
  return undefined;
}
