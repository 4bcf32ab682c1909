import type { BenchNeo4j } from "./bench-neo4j.js";
import { graphRows } from "./encode.js";
import type { EventSet } from "./event-set.js";
import { originalParams, writeLikeOriginal } from "./original-pattern.js";
import { formatNumber, log } from "./progress.js";
import { writeBatch, writeBatches } from "./sink-writes.js";

/** Transaction sizes the sink writes in binary mode (~32) and batch mode (~1,000-2,000). */
const SIZES = [32, 1_000];
const SINK_EVENTS = 20_000;
const ORIGINAL_EVENTS = 500;
/** The event set must hold at least this many events. */
export const WARM_UP_EVENTS = SINK_EVENTS + ORIGINAL_EVENTS;

/**
 * Runs every kind of write once before anything is measured, then empties the database: a
 * fresh Neo4j spends its first minute compiling hot code (the JVM's JIT), and without this the
 * first scenario of a run would pay for it and look slower than it is. Takes the events from
 * the end of the set, away from those the scenarios measure.
 */
export async function warmUpNeo4j(db: BenchNeo4j, events: EventSet): Promise<void> {
  const started = performance.now();
  log(`warming up Neo4j (JIT) with ${formatNumber(SINK_EVENTS + ORIGINAL_EVENTS)} writes`);
  await db.reset();
  await db.createSinkSchema();
  let cursor = events.size - SINK_EVENTS - ORIGINAL_EVENTS;
  for (const size of SIZES) {
    const count = SINK_EVENTS / SIZES.length;
    for (const batch of writeBatches(graphRows(events.slice(cursor, count)), size)) {
      await writeBatch(db.driver, batch);
    }
    cursor += count;
  }
  await db.reset();
  for (const event of events.slice(cursor, ORIGINAL_EVENTS)) {
    await writeLikeOriginal(db.driver, originalParams(event));
  }
  await db.reset();
  log(`Neo4j warmed up in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
