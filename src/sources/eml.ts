/** `eml:PATH` — one .eml file, or a folder searched recursively for `*.eml` files. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, RawMessage, SourceUnit } from '../model/message.js';
import { ScanError } from '../shared/errors.js';
import { baseNameWithoutExtension, readMessageFile, statOrThrow, walkFiles } from './files.js';
import type { Source, SourceOptions } from './types.js';

const isEml = (file: string): boolean => /\.eml$/i.test(file);

export function emlSource(spec: string, target: string, options: SourceOptions): Source {
  return {
    kind: 'eml',
    spec,
    async units(): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      const mailbox = options.mailbox ?? baseNameWithoutExtension(target);
      if (st.isFile()) {
        return [{ id: `eml:${path.resolve(target)}`, source: spec, mailbox, folder: 'INBOX', ref: target }];
      }
      // One unit per directory that holds .eml files; the folder is its path below the root.
      const dirs = new Set<string>();
      for await (const file of walkFiles(target)) if (isEml(file)) dirs.add(path.dirname(file));
      if (dirs.size === 0) {
        throw new ScanError('source-invalid', `${target}: no .eml files found below this folder`, { source: spec, path: target });
      }
      return [...dirs].sort().map((dir) => {
        const relative = path.relative(target, dir);
        const folder = relative === '' ? 'INBOX' : relative.split(path.sep).join('/');
        return { id: `eml:${path.resolve(dir)}`, source: spec, mailbox, folder, ref: dir };
      });
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<RawMessage> {
      const st = await statOrThrow(unit.ref);
      const files: string[] = [];
      if (st.isFile()) files.push(unit.ref);
      else {
        for (const e of await readdir(unit.ref, { withFileTypes: true })) {
          if (e.isFile() && isEml(e.name)) files.push(path.join(unit.ref, e.name));
        }
        files.sort();
      }
      for (const file of files) {
        const name = path.basename(file);
        if (after && name <= after.cursor) continue;
        const size = (await statOrThrow(file)).size;
        const { bytes, oversize } = await readMessageFile(file, size, options.maxMessageBytes);
        yield { unit, locator: file, size, bytes, ...(oversize ? { oversize } : {}), cursor: name };
      }
    },
  };
}
