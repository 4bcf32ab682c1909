/** A seeded pseudo-random stream in [0, 1): the event set must be identical on every run. */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough to spread picks over pools; not for cryptography. */
function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream derived from a seed and an index, so event `i` never depends on events before it. */
export function streamAt(seed: number, index: number): Random {
  return seededRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError("pick from an empty list");
  return item;
}

export function hex(random: Random, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += Math.floor(random() * 16).toString(16);
  return text;
}

/**
 * Index in [0, size) skewed towards small values (rank^-exponent, like most audit trails: a
 * few users and resources do most of the work). Inverse-CDF of a continuous power law.
 */
export function skewedIndex(random: Random, size: number, exponent = 0.8): number {
  const u = random();
  const a = 1 - exponent;
  // x runs over [1, size + 1), so every index in [0, size) can come out.
  const index = Math.floor(Math.pow(u * (Math.pow(size + 1, a) - 1) + 1, 1 / a)) - 1;
  return Math.min(size - 1, Math.max(0, index));
}
