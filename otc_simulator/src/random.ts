/**
 * Deterministic randomness: every generated trace draws from its own stream, keyed by the seed,
 * its sequence number and a purpose, so trace #n looks the same whether it was generated live,
 * in bulk, or rendered again for a later page, and no stream depends on another's consumption.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** splitmix32-style integer hash: well mixed, cheap, and stable across platforms. */
function mix32(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Folds any number of integers and strings into one 32-bit key. */
export function hashKey(...parts: readonly (number | string)[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    if (typeof part === "number") {
      hash = mix32(hash ^ mix32(part | 0) ^ mix32(Math.floor(part / 2 ** 32)));
    } else {
      for (let index = 0; index < part.length; index++) {
        hash = mix32(hash ^ part.charCodeAt(index));
      }
    }
  }
  return hash;
}

/** sfc32: a small, fast generator with a 128-bit state (PractRand-clean). */
function sfc32(state: readonly [number, number, number, number]): Random {
  let [a, b, c, d] = state.map((word) => word >>> 0) as [number, number, number, number];
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let warmUp = 0; warmUp < 12; warmUp++) next();
  return next;
}

/** The stream for one purpose, e.g. `streamFor(seed, "content", seq)`. */
export function streamFor(...key: readonly (number | string)[]): Random {
  const base = hashKey(...key);
  return sfc32([base, mix32(base + 1), mix32(base + 2), mix32(base + 3)]);
}

/** An integer in [min, max]. */
export function intBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element, uniformly. */
export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError("pick from an empty list");
  return item;
}

/** One element by weight; weights need not sum to 1. */
export function weighted<T>(random: Random, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  let target = random() * total;
  for (const [item, weight] of items) {
    target -= weight;
    if (target < 0) return item;
  }
  const last = items.at(-1);
  if (last === undefined) throw new RangeError("weighted pick from an empty list");
  return last[0];
}

/** `length` lower-case hex digits. */
export function hex(random: Random, length: number): string {
  let text = "";
  while (text.length < length) {
    text += Math.floor(random() * 4294967296)
      .toString(16)
      .padStart(8, "0");
  }
  return text.slice(0, length);
}

/** `length` characters from `alphabet`. */
export function fromAlphabet(random: Random, alphabet: string, length: number): string {
  let text = "";
  for (let index = 0; index < length; index++) {
    text += alphabet[Math.floor(random() * alphabet.length)] ?? "";
  }
  return text;
}

/** An exponential inter-arrival gap for a Poisson process of `ratePerSecond`, in ms. */
export function exponentialGapMs(random: Random, ratePerSecond: number): number {
  return (-Math.log(1 - random()) / ratePerSecond) * 1000;
}
