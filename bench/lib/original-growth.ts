import neo4j, { type Driver } from "neo4j-driver";
import { chunksOf, type EventRange } from "./event-set.js";
import { GROWTH_INDEXES, ORIGINAL_BULK_QUERY, originalParams } from "./original-pattern.js";
import { progress } from "./progress.js";

const CHUNK = 2_000;

async function runEach(driver: Driver, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await driver.executeQuery(statement);
}

/**
 * Grows the original's graph by events `[start, start + count)` in bulk (the same MERGEs over
 * UNWIND, with temporary indexes), then drops the indexes again, so the measurement that follows
 * sees the graph the original would have built, without its quadratic cost of building it.
 * Returns false when the deadline passed before the growth was done.
 */
export async function growOriginalGraph(
  driver: Driver,
  range: EventRange,
  deadline: number,
): Promise<boolean> {
  const meter = progress("grow (original's graph, bulk)");
  await runEach(
    driver,
    GROWTH_INDEXES.map((index) => index.create),
  );
  await driver.executeQuery("CALL db.awaitIndexes(300)");
  try {
    for (const chunk of chunksOf(range, CHUNK, meter)) {
      if (performance.now() > deadline) return false;
      const rows = range.events.slice(chunk.start, chunk.count).map(originalParams);
      const session = driver.session({ defaultAccessMode: neo4j.session.WRITE });
      try {
        await session.executeWrite((tx) => tx.run(ORIGINAL_BULK_QUERY, { rows }));
      } finally {
        await session.close();
      }
    }
    return true;
  } finally {
    await runEach(
      driver,
      GROWTH_INDEXES.map((index) => index.drop),
    );
  }
}
