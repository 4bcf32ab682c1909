/**
 * Bounded concurrency with back-pressure: `run` resolves once the task has a slot (not when it
 * finishes), so a producer awaiting `run` never holds more than `concurrency` tasks in memory.
 * Written by hand because p-limit and friends queue without bound, which is what we avoid here.
 *
 * A task's failure is never swallowed: the first one is kept, `run` refuses new tasks with it
 * and `drain` rethrows it once every started task has ended.
 */
export class Limiter {
  readonly #concurrency: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  /** `drain` calls waiting for the last task to end. */
  readonly #idle: (() => void)[] = [];
  #failure: { readonly error: unknown } | undefined;

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError("concurrency must be >= 1");
    this.#concurrency = concurrency;
  }

  async run(task: () => Promise<void>): Promise<void> {
    while (this.#active >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure.error;
    this.#active++;
    void this.#start(task);
  }

  /** Waits for every started task, then throws the first task failure, if any. */
  async drain(): Promise<void> {
    while (this.#active > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  // One async frame per task rather than a then/catch/finally chain: this runs once per request
  // at thousands of requests a second. A task that throws before its first await lands in the
  // catch like any other failure, never escaping `run` while holding a slot.
  async #start(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.#failure ??= { error };
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
      if (this.#active === 0) for (const idle of this.#idle.splice(0)) idle();
    }
  }
}
