/**
 * A bounded queue between the FETCH reader and the scanner: the server keeps sending while the
 * parser works (the network side overlaps the CPU side), and at most `capBytes` of fetched
 * messages wait in memory. One item is always accepted when the queue is empty, so a message
 * larger than the cap (but under --max-message-size) still goes through.
 */
export class ReadAhead<T> {
  private readonly items: { item: T; bytes: number }[] = [];
  private bytes = 0;
  private ended = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capBytes: number) {}

  /** Waits while the queue is full; false once the consumer has gone (stop producing). */
  async push(item: T, bytes: number): Promise<boolean> {
    while (!this.closed && this.items.length > 0 && this.bytes + bytes > this.capBytes) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.closed) return false;
    this.items.push({ item, bytes });
    this.bytes += bytes;
    this.wake('consumer');
    return true;
  }

  /** The producer finished: the consumer gets what is queued, then `undefined`. */
  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  /** The producer failed: the consumer gets what is queued, then this error is thrown. */
  fail(error: unknown): void {
    this.failure = { error };
    this.wake('consumer');
  }

  /** The next item, `undefined` at the end; throws the producer's error once drained. */
  async pop(): Promise<T | undefined> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        this.bytes -= next.bytes;
        this.wake('producer');
        return next.item;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  /** The consumer stopped: drop what is queued and release a waiting producer. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.bytes = 0;
    this.wake('producer');
  }

  private wake(who: 'consumer' | 'producer'): void {
    const fn = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    fn?.();
  }
}
