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
  readonly #running = new Set<Promise<void>>();
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
    // A task that throws before its first await is a rejected promise here, not an exception
    // that escapes `run` while holding a slot.
    const running = Promise.resolve()
      .then(task)
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#active--;
        this.#running.delete(running);
        this.#waiting.shift()?.();
      });
    this.#running.add(running);
  }

  /** Waits for every started task, then throws the first task failure, if any. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}
