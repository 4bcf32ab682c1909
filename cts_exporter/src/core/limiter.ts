/**
 * Bounded concurrency with back-pressure: `run` resolves once the task has a slot (not when it
 * finishes), so a producer awaiting `run` never holds more than `concurrency` tasks in memory.
 * Written by hand because p-limit and friends queue without bound, which is what we avoid here.
 */
export class Limiter {
  readonly #concurrency: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError("concurrency must be >= 1");
    this.#concurrency = concurrency;
  }

  async run(task: () => Promise<void>): Promise<void> {
    while (this.#active >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#active++;
    const running = task()
      .catch(() => undefined)
      .finally(() => {
        this.#active--;
        this.#running.delete(running);
        this.#waiting.shift()?.();
      });
    this.#running.add(running);
  }

  /** Waits for every started task. Tasks must handle their own errors. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
