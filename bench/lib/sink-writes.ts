import neo4j, { type Driver } from "neo4j-driver";
import {
  buildWriteBatch,
  runInOneTransaction,
  writeStatements,
  type GraphRow,
  type WriteBatch,
} from "@cts/neo4j_sink";
import { chunksOf, type EventRange } from "./event-set.js";
import { graphRows } from "./encode.js";
import { progress } from "./progress.js";

/** The sink's write batches for `rows`, `size` events each (built before any clock runs). */
export function writeBatches(rows: readonly GraphRow[], size: number): WriteBatch[] {
  const batches: WriteBatch[] = [];
  for (let start = 0; start < rows.length; start += size) {
    batches.push(buildWriteBatch(rows.slice(start, start + size)));
  }
  return batches;
}

/** One batch the sink's way: its statements pipelined in one write transaction. */
export async function writeBatch(driver: Driver, batch: WriteBatch): Promise<void> {
  const session = driver.session({ defaultAccessMode: neo4j.session.WRITE });
  try {
    await runInOneTransaction(session, writeStatements(batch));
  } finally {
    await session.close();
  }
}

/**
 * Grows the graph by events `[start, start + count)` through the sink's own write path, without
 * HTTP: the next chunk is generated and mapped while the previous one is being written, so
 * growing to 500k actions costs little more than Neo4j's own time.
 */
export async function growWithSinkWrites(
  driver: Driver,
  range: EventRange,
  batchSize: number,
): Promise<void> {
  const meter = progress("grow (sink write path)");
  let pending: Promise<void> = Promise.resolve();
  for (const chunk of chunksOf(range, batchSize, meter)) {
    const batch = buildWriteBatch(graphRows(range.events.slice(chunk.start, chunk.count)));
    await pending;
    pending = writeBatch(driver, batch);
  }
  await pending;
}
