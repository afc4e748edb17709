/**
 * The PST/OST file header ([MS-PST] 2.2.2.6): just enough to tell a PST from something else,
 * Unicode from ANSI, and a truncated copy from a whole one (the header records the file's
 * size), and to give a file identity that changes when the file does.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Bytes read from the start of the file: the whole header of either format. */
const HEADER_BYTES = 4096;

export interface PstHeader {
  /** `unicode` (wVer 23, 36: Outlook 2003 and later), `ansi` (wVer 14/15: Outlook 97-2002). */
  readonly format: 'unicode' | 'ansi';
  /** `pst` (wMagicClient "SM") or `ost` ("SO"). */
  readonly kind: 'pst' | 'ost';
  /** The size the header says the file has (ibFileEof). */
  readonly declaredSize: number;
  readonly actualSize: number;
  /** Size, modification time and a hash of the header: a cursor holds it, so a changed file is rescanned. */
  readonly identity: string;
}

export class NotAPstError extends Error {
  override readonly name = 'NotAPstError';
}

export async function readPstHeader(file: string): Promise<PstHeader> {
  const handle = await open(file, 'r');
  try {
    const st = await handle.stat();
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    if (head.length < 512 || head.toString('latin1', 0, 4) !== '!BDN') {
      throw new NotAPstError('not a PST/OST file (no !BDN signature)');
    }
    const client = head.toString('latin1', 8, 10);
    const ver = head.readUInt16LE(10);
    const unicode = ver >= 23;
    if (!unicode && ver !== 14 && ver !== 15) throw new NotAPstError(`unknown PST format version ${ver}`);
    // ROOT.ibFileEof: a 64-bit offset at 184 (Unicode), a 32-bit one at 168 (ANSI).
    const declaredSize = unicode ? Number(head.readBigUInt64LE(184)) : head.readUInt32LE(168);
    const hash = createHash('sha256').update(head).digest('hex').slice(0, 16);
    return {
      format: unicode ? 'unicode' : 'ansi',
      kind: client === 'SO' ? 'ost' : 'pst',
      declaredSize,
      actualSize: st.size,
      identity: `${st.size}-${Math.trunc(st.mtimeMs)}-${hash}`,
    };
  } finally {
    await handle.close();
  }
}
