/**
 * Lines encoded as UTF-8 into one reused buffer, handed out as one Buffer a batch. A message's
 * JSONL lines joined into a string and then converted cost ~10× more (V8 flattens the joined
 * string, then Node measures and encodes it: ~7 % of a PHI-dense scan's CPU, whose lines hold
 * two-byte `•`); each line written straight into the buffer is encoded once.
 */
const INITIAL_BYTES = 64 * 1024;
/** A buffer grown past this for one large batch (a roster message) is let go after it. */
const KEEP_BYTES = 4 * 1024 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3;

export class LineBytes {
  private buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private used = 0;

  /** Appends `line` and a newline. */
  add(line: string): void {
    const room = line.length * MAX_BYTES_PER_UNIT + 1;
    if (this.used + room > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + room));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
  }

  /** The lines added since the last call, as a Buffer of their own (the caller may keep it). */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.used));
    this.used = 0;
    if (this.buffer.length > KEEP_BYTES) this.buffer = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }
}
