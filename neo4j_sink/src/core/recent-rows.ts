import { WRITE_ORDER } from "./cypher.js";
import type { WriteBatch } from "./write-batch.js";

/** The lists of a batch that describe shared nodes and their relationships (not the actions'). */
type SharedList = Exclude<(typeof WRITE_ORDER)[number], "actions" | "actionLinks">;
const SHARED = WRITE_ORDER.filter(
  (list): list is SharedList => list !== "actions" && list !== "actionLinks",
);

/** Tuning of the memory of committed shared rows. */
export interface RecentRowsOptions {
  /** How long a committed row is left out of later batches. */
  readonly ttlMs: number;
  /** Most rows remembered; beyond it everything is forgotten and relearned. */
  readonly maxRows: number;
}

/**
 * The shared rows (projects, regions, domains, users, resources, IPs and the relationships
 * between them: project regions, user domains, resource memberships) that
 * committed recently, so the next batches leave them out: in binary mode, where a transaction
 * carries only as many events as there are connections, re-MERGEing the same few shared nodes
 * in every transaction costs Neo4j more than the actions themselves (bench/README.md).
 *
 * A row is remembered by its whole content, so a changed name is written again at once. The
 * action statement MERGEs the nodes it links to by key, so a left-out row can never cost an
 * action or one of its relationships, even if the node was deleted behind the sink's back;
 * only its descriptive properties would wait until the row is written again (at most `ttlMs`).
 */
export interface RecentRows {
  /** `batch` without the shared rows committed within the TTL (actions and their links never). */
  unseen(batch: WriteBatch, now: number): WriteBatch;
  /** Remembers the shared rows of a batch that committed. */
  committed(batch: WriteBatch, now: number): void;
  /** Forgets everything: after a failed write or when the schema is (re)created. */
  clear(): void;
}

export function createRecentRows(options: RecentRowsOptions): RecentRows {
  // Row content (JSON) -> when it committed, per list; JSON of the same object shape is stable.
  const seen = new Map<SharedList, Map<string, number>>(SHARED.map((list) => [list, new Map()]));
  let size = 0;

  const fresh = (list: SharedList, row: unknown, now: number): boolean => {
    const at = seen.get(list)?.get(JSON.stringify(row));
    return at !== undefined && now - at < options.ttlMs;
  };

  const clear = () => {
    for (const rows of seen.values()) rows.clear();
    size = 0;
  };

  return {
    unseen(batch, now) {
      if (size === 0) return batch;
      const left = { ...batch } as Record<SharedList, readonly unknown[]>;
      for (const list of SHARED) {
        left[list] = batch[list].filter((row: unknown) => !fresh(list, row, now));
      }
      return { ...batch, ...left } as WriteBatch;
    },
    committed(batch, now) {
      for (const list of SHARED) {
        const rows = seen.get(list);
        if (rows === undefined) continue;
        for (const row of batch[list]) {
          const key = JSON.stringify(row);
          if (!rows.has(key)) size += 1;
          rows.set(key, now);
        }
      }
      if (size > options.maxRows) clear();
    },
    clear,
  };
}
