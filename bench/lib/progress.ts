/** Prints one progress line at most every `everyMs`, so long phases show they are alive. */
export interface Progress {
  tick(done: number, total?: number): void;
  done(message: string): void;
}

const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
export const formatNumber = (value: number): string => fmt.format(value);

export function log(line: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
}

export function progress(label: string, everyMs = 5_000): Progress {
  const started = performance.now();
  let last = started;
  return {
    tick(done, total) {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      const seconds = (now - started) / 1000;
      const of = total === undefined ? "" : ` of ${formatNumber(total)}`;
      log(
        `  ${label}: ${formatNumber(done)}${of} events, ${formatNumber(done / seconds)}/s, ${seconds.toFixed(0)} s`,
      );
    },
    done(message) {
      log(`  ${label}: ${message}`);
    },
  };
}
