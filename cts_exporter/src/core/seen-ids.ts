/**
 * Ids of traces already delivered, with their trace time, so the overlap of the next window
 * does not send them again. Entries older than the next window's start are pruned, which bounds
 * memory by the traffic of one overlap plus one cycle; `maxSize` is a hard cap on top.
 */
export class SeenIds {
  readonly #times = new Map<string, number>();
  readonly #maxSize: number;

  constructor(maxSize = 1_000_000) {
    this.#maxSize = maxSize;
  }

  has(id: string): boolean {
    return this.#times.has(id);
  }

  add(id: string, time: number): void {
    this.#times.set(id, time);
    if (this.#times.size > this.#maxSize) {
      // Map iterates in insertion order: drop the oldest insertions first.
      const excess = this.#times.size - this.#maxSize;
      let dropped = 0;
      for (const key of this.#times.keys()) {
        if (dropped++ >= excess) break;
        this.#times.delete(key);
      }
    }
  }

  delete(id: string): void {
    this.#times.delete(id);
  }

  /** Forgets every id whose trace time is at or before `time`. */
  pruneBefore(time: number): void {
    for (const [id, traceTime] of this.#times) {
      if (traceTime <= time) this.#times.delete(id);
    }
  }

  get size(): number {
    return this.#times.size;
  }

  entries(): [string, number][] {
    return [...this.#times];
  }
}
