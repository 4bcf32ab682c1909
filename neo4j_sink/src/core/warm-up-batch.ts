import type { GraphRow } from "./graph-rows.js";
import { buildWriteBatch, type WriteBatch } from "./write-batch.js";

const MARK = "neo4j_sink warm-up, rolled back";

/**
 * One event that fills every list of a batch, so each write statement runs with real rows
 * (the unit tests build their rows on it too).
 */
export const WARM_UP_ROW: GraphRow = {
  id: MARK,
  name: "warmUp",
  traceType: "SystemAction",
  rating: "normal",
  code: "200",
  time: "2000-01-01T00:00:00.000Z",
  recordTime: "2000-01-01T00:00:00.000Z",
  service: "CTS",
  resourceType: "tracker",
  sourceIp: "192.0.2.0",
  apiVersion: null,
  requestId: null,
  message: null,
  request: null,
  response: null,
  truncated: false,
  traceparent: null,
  tracestate: null,
  eventType: "cts.systemaction.tracker.warmup",
  eventSource: MARK,
  userId: MARK,
  userName: MARK,
  domainId: MARK,
  domainName: MARK,
  resourceKey: MARK,
  resourceId: MARK,
  resourceName: MARK,
  projectId: MARK,
  regionId: MARK,
};

/**
 * The batch the sink runs at start inside a transaction it then rolls back: Neo4j caches a
 * plan per statement and parameter type, and an empty list is not typed like a list of rows,
 * so only real rows give the first events a ready plan. Nothing of it is ever committed.
 */
export const WARM_UP_BATCH: WriteBatch = buildWriteBatch([WARM_UP_ROW]);

/**
 * Neo4j 5 keys a cached plan also by the size of each list parameter, rounded up to a power of
 * ten (1, 10, 100, ...): a statement first run with 16 rows is planned again although it ran
 * with 1. The shortest list of each such bucket, from 1 up to the bucket of `maxRows`.
 */
export function listSizeBuckets(maxRows: number): number[] {
  const sizes = [1];
  for (let bucket = 10; bucket < maxRows * 10; bucket *= 10) sizes.push(bucket / 10 + 1);
  return sizes;
}

/**
 * Executions of one cached plan before Neo4j compiles its expressions (the "hot" plan), which
 * replans the statement once more. Small transactions (binary mode) reach it within the first
 * second of traffic, so the warm-up runs their plans this often; the large ones of batch mode
 * reach it late and are planned once, which keeps the start short.
 */
const HOT_PLAN_RUNS = 11;
const HOT_LIST_MAX = 100;

/** WARM_UP_BATCH with every list `size` long (the same entry repeated; MERGE takes it once). */
export function warmUpBatchOfSize(size: number): WriteBatch {
  const grown = (list: readonly unknown[]) => Array.from({ length: size }, () => list[0]);
  return Object.fromEntries(
    Object.entries(WARM_UP_BATCH).map(([name, list]) => [name, grown(list as readonly unknown[])]),
  ) as unknown as WriteBatch;
}

/**
 * The batches the start runs, in order: one per list-size bucket a transaction of `maxEvents`
 * reaches, those of small transactions repeated until their plans are hot.
 */
export function warmUpBatches(maxEvents: number): WriteBatch[] {
  return listSizeBuckets(maxEvents).flatMap((size) =>
    Array.from({ length: size <= HOT_LIST_MAX ? HOT_PLAN_RUNS : 1 }, () => warmUpBatchOfSize(size)),
  );
}
