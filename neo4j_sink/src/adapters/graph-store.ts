import neo4j, { type Driver, type Session } from "neo4j-driver";
import { SCHEMA_STATEMENTS, writeStatements, type Statement } from "../core/cypher.js";
import { createRecentRows } from "../core/recent-rows.js";
import { WARM_UP_BATCH } from "../core/warm-up-batch.js";
import type { WriteBatch } from "../core/write-batch.js";
import { describeNeo4jError, type Neo4jConnectionConfig } from "./neo4j-connection.js";

/** The sink's port to Neo4j: schema, batch writes and a liveness probe. */
export interface GraphStore {
  /**
   * Creates constraints and indexes (idempotent), waits until the indexes are online, and
   * compiles every write statement once, so the first events do not wait for query planning.
   */
  ensureSchema(): Promise<void>;
  /** Writes one batch in one transaction; resolves once it committed. */
  write(batch: WriteBatch): Promise<void>;
  /** Resolves when Neo4j answers a query; rejects with an AppError otherwise. */
  ping(): Promise<void>;
}

const TX_TIMEOUT_MS = 30_000;
const INDEX_WAIT_SECONDS = 120;
/** How long a committed shared row (user, resource, project...) is left out of later batches. */
const RECENT_ROWS_TTL_MS = 60_000;
const RECENT_ROWS_MAX = 100_000;

/**
 * Runs `statements` in one write transaction. They are sent back to back without waiting for
 * each other (Bolt pipelines them on one connection) and run in order on the server. The
 * driver retries the function on transient errors; the statements are idempotent MERGEs, so a
 * retry after a commit whose reply got lost changes nothing.
 */
export async function runInOneTransaction(
  session: Session,
  statements: readonly Statement[],
): Promise<void> {
  await session.executeWrite(
    async (tx) => {
      await Promise.all(statements.map((s) => tx.run(s.text, s.parameters)));
    },
    { timeout: TX_TIMEOUT_MS, metadata: { app: "neo4j_sink" } },
  );
}

/** The Neo4j adapter of the sink. All errors come out as AppErrors (describeNeo4jError). */
export function createGraphStore(driver: Driver, config: Neo4jConnectionConfig): GraphStore {
  const sessionConfig = {
    defaultAccessMode: neo4j.session.WRITE,
    ...(config.database === undefined ? {} : { database: config.database }),
  };
  const withSession = async (work: (session: Session) => Promise<void>) => {
    const session = driver.session(sessionConfig);
    try {
      await work(session);
    } catch (error) {
      throw describeNeo4jError(error, config);
    } finally {
      await session.close();
    }
  };
  const recent = createRecentRows({ ttlMs: RECENT_ROWS_TTL_MS, maxRows: RECENT_ROWS_MAX });
  return {
    ensureSchema: () =>
      withSession(async (session) => {
        // Called at start and after an outage: the database may have been replaced meanwhile.
        recent.clear();
        for (const text of SCHEMA_STATEMENTS) await session.run(text);
        await session.run(`CALL db.awaitIndexes(${INDEX_WAIT_SECONDS})`);
        // Plans every write statement for real rows, then rolls back (warm-up-batch.ts).
        const tx = session.beginTransaction({ timeout: TX_TIMEOUT_MS });
        try {
          for (const statement of writeStatements(WARM_UP_BATCH)) {
            await tx.run(statement.text, statement.parameters);
          }
        } finally {
          await tx.rollback();
        }
      }),
    write: (batch) =>
      withSession(async (session) => {
        const fresh = recent.unseen(batch, Date.now());
        try {
          await runInOneTransaction(session, writeStatements(fresh));
        } catch (error) {
          recent.clear();
          throw error;
        }
        recent.committed(fresh, Date.now());
      }),
    ping: () =>
      withSession(async (session) => {
        await session.run("RETURN 1");
      }),
  };
}
