import type { GraphRow } from "./graph-rows.js";
import { buildWriteBatch, type WriteBatch } from "./write-batch.js";

const MARK = "neo4j_sink warm-up, rolled back";

/** One event that fills every list of a batch, so each write statement runs with real rows. */
const WARM_UP_ROW: GraphRow = {
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
