import neo4j, { type Driver, type ManagedTransaction, type Session } from "neo4j-driver";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, isAppError, toAppError, type Logger } from "@cts/shared";
import {
  READ_QUERIES,
  SCHEMA_STATEMENTS,
  writeStatements,
  type Statement,
} from "../core/cypher.js";
import type { GraphRow } from "../core/graph-rows.js";
import type { GraphStore, WriteOutcome } from "../core/ports.js";
import { createRecentRows } from "../core/recent-rows.js";
import { warmUpBatches } from "../core/warm-up-batch.js";
import {
  actionsOf,
  buildWriteBatch,
  compareWithStored,
  dedupeRows,
  type WriteBatch,
} from "../core/write-batch.js";
import type { Neo4jConnectionConfig } from "../config.js";
import { describeNeo4jError } from "./neo4j-connection.js";

const TX_TIMEOUT_MS = 30_000;
const INDEX_WAIT_SECONDS = 120;
const SCHEMA_ATTEMPTS = 5;
/** How long a committed shared row (user, resource, project...) is left out of later batches. */
const RECENT_ROWS_TTL_MS = 60_000;
const RECENT_ROWS_MAX = 100_000;
const TX_CONFIG = { timeout: TX_TIMEOUT_MS, metadata: { app: "neo4j_sink" } } as const;

/**
 * Runs `statements` in `tx`. They are sent back to back without waiting for each other (Bolt
 * pipelines them on one connection) and run in order on the server.
 */
export async function runStatements(
  tx: Pick<ManagedTransaction, "run">,
  statements: readonly Statement[],
): Promise<void> {
  await Promise.all(statements.map((s) => tx.run(s.text, s.parameters)));
}

/**
 * Runs `statements` in one write transaction with the driver's retries (the benchmark's
 * baseline path; the sink itself retries in its writer, see createGraphStore).
 */
export async function runInOneTransaction(
  session: Session,
  statements: readonly Statement[],
): Promise<void> {
  await session.executeWrite((tx) => runStatements(tx, statements), TX_CONFIG);
}

/** Which of `rows` Neo4j stores already, and whether with the same content. */
async function storedState(
  tx: Pick<ManagedTransaction, "run">,
  rows: readonly GraphRow[],
): Promise<Map<string, boolean>> {
  const stored = new Map<string, boolean>();
  const found = await tx.run(READ_QUERIES.storedActions, { ids: rows.map((row) => row.id) });
  if (found.records.length === 0) return stored;
  const ids = new Set(found.records.map((record) => record.get("id") as string));
  const compared = await tx.run(READ_QUERIES.sameActions, {
    rows: actionsOf(rows.filter((row) => ids.has(row.id))),
  });
  for (const record of compared.records) {
    stored.set(record.get("id") as string, record.get("same") === true);
  }
  return stored;
}

const neo4jCodeOf = (error: unknown): string => {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : "";
  return typeof code === "string" ? code : "";
};

/** Most events the writer puts in one transaction, unless told (the sink's SINK_BATCH_MAX_EVENTS default). */
const DEFAULT_MAX_BATCH_EVENTS = 2000;

/** Every statement a write runs, with the lists of `batch` (warm-up-batch.ts). */
function warmUpStatements(batch: WriteBatch): Statement[] {
  return [
    { text: READ_QUERIES.storedActions, parameters: { ids: batch.actions.map((a) => a.id) } },
    { text: READ_QUERIES.sameActions, parameters: { rows: batch.actions } },
    ...writeStatements(batch),
  ];
}

type RecentRows = ReturnType<typeof createRecentRows>;
type DistinctRows = ReturnType<typeof dedupeRows>;
/** Runs `work` in a session of the sink's database; every error comes out as an AppError. */
type WithSession = <T>(work: (session: Session) => Promise<T>) => Promise<T>;

/** Reads which actions are stored first, then writes only the fresh ones. */
async function writeChecked(
  session: Session,
  distinct: DistinctRows,
  recent: RecentRows,
): Promise<WriteOutcome> {
  const tx = session.beginTransaction(TX_CONFIG);
  try {
    const stored = await storedState(tx, distinct.rows);
    const split = compareWithStored(distinct.rows, stored);
    let written: WriteBatch | undefined;
    if (split.fresh.length > 0) {
      written = recent.unseen(buildWriteBatch(split.fresh), Date.now());
      await runStatements(tx, writeStatements(written));
    }
    await tx.commit();
    if (written !== undefined) recent.committed(written, Date.now());
    return {
      events: distinct.rows.length,
      written: split.fresh.length,
      conflicts: [...distinct.conflicts, ...split.conflicts],
    };
  } finally {
    if (tx.isOpen()) await tx.rollback().catch(() => undefined);
  }
}

/**
 * Plans every statement for real rows in every list-size bucket a write can reach (those of
 * small writes until Neo4j has compiled them hot), each batch in a transaction it rolls back
 * (warm-up-batch.ts): the first events find their plans ready. Only an optimisation: on a
 * loaded or slow server it can outlast a transaction's timeout, and then the sink starts
 * anyway, cold, instead of failing its start.
 */
async function warmUpPlans(
  withSession: WithSession,
  warmUp: readonly WriteBatch[],
  logger: Logger | undefined,
): Promise<void> {
  const started = Date.now();
  try {
    await withSession(async (session) => {
      for (const batch of warmUp) {
        const tx = session.beginTransaction(TX_CONFIG);
        try {
          await runStatements(tx, warmUpStatements(batch));
        } finally {
          await tx.rollback().catch(() => undefined);
        }
      }
    });
  } catch (error) {
    logger?.warn(
      { code: toAppError(error).code, err: toAppError(error).message, ms: Date.now() - started },
      "query plan warm-up did not finish; the first events wait for Neo4j to plan their statements",
    );
  }
}

/** A transient error, or another replica creating the same constraint at the same moment. */
function isSchemaRace(error: unknown): boolean {
  return (
    isAppError(error) &&
    (error.code === ErrorCode.NEO4J_TRANSIENT || neo4jCodeOf(error.cause).includes("AlreadyExists"))
  );
}

/**
 * Creates the constraints and indexes and waits for them. Several replicas starting at once
 * create the same constraints concurrently; a transient error or an "already exists" race is
 * settled by running the idempotent statements again.
 */
async function createSchema(withSession: WithSession, recent: RecentRows): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withSession(async (session) => {
        // Called at start and after an outage: the database may have been replaced meanwhile.
        recent.clear();
        for (const text of SCHEMA_STATEMENTS) await session.run(text);
        await session.run(`CALL db.awaitIndexes(${INDEX_WAIT_SECONDS})`);
      });
      return;
    } catch (error) {
      if (!isSchemaRace(error) || attempt >= SCHEMA_ATTEMPTS) throw error;
      await sleep(50 + Math.random() * 200 * attempt);
    }
  }
}

/**
 * The Neo4j adapter of the sink. All errors come out as AppErrors (describeNeo4jError).
 * `maxBatchEvents` bounds the transactions the start plans for (see ensureSchema).
 */
export function createGraphStore(
  driver: Driver,
  config: Neo4jConnectionConfig,
  options: { readonly maxBatchEvents?: number; readonly logger?: Logger } = {},
): GraphStore {
  const warmUp = warmUpBatches(options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS);
  const sessionConfig = {
    defaultAccessMode: neo4j.session.WRITE,
    ...(config.database === undefined ? {} : { database: config.database }),
  };
  const withSession: WithSession = async (work) => {
    const session = driver.session(sessionConfig);
    try {
      return await work(session);
    } catch (error) {
      throw isAppError(error) ? error : describeNeo4jError(error, config);
    } finally {
      await session.close();
    }
  };

  const recent = createRecentRows({ ttlMs: RECENT_ROWS_TTL_MS, maxRows: RECENT_ROWS_MAX });

  // An explicit transaction, not executeWrite: the driver's retries wait a second or more
  // between attempts; the writer retries contention itself with short jittered delays.
  const write = (rows: readonly GraphRow[]) =>
    withSession(async (session) => {
      const distinct = dedupeRows(rows);
      try {
        return await writeChecked(session, distinct, recent);
      } catch (error) {
        recent.clear();
        throw error;
      }
    });

  return {
    ensureSchema: async () => {
      await createSchema(withSession, recent);
      await warmUpPlans(withSession, warmUp, options.logger);
    },
    write,
    ping: () =>
      withSession(async (session) => {
        await session.run("RETURN 1");
      }),
  };
}
