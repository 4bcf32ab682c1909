import type { Driver } from "neo4j-driver";
import { CtsTrace, traceToCloudEvent, type HttpMessage, type TraceOrigin } from "@cts/shared";
import { httpPost, type HttpAnswer, type TestNeo4j } from "@cts/devkit";
import type { Neo4jConnectionConfig } from "../src/config.js";
import { euDeOrigin } from "../src/testing.js";

export const PROJECT_ID = "0391e4486e864c26be5654c522f440f2";

export const origin = euDeOrigin(PROJECT_ID, "dom-1");

/** A realistic CTS v3 trace; `overrides` replace fields (null removes nothing, it sets null). */
export function rawTrace(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trace_id: "e001ccb9-bc09-11e6-b00b-4b2a61338db6",
    trace_name: "deleteServer",
    trace_rating: "normal",
    trace_type: "ApiCall",
    request: { servers: [{ id: "srv-1" }] },
    response: '{"job_id":"j1"}',
    code: 200,
    api_version: "v2.1",
    message: null,
    record_time: 1700000060000,
    time: 1700000000123,
    user: { id: "u1", name: "alice", domain: { id: "dom-1", name: "OTC-EU-DE-00000000001" } },
    service_type: "ECS",
    resource_type: "ecs",
    resource_name: "web-01",
    resource_id: "srv-1",
    source_ip: "192.0.2.10",
    request_id: "req-1",
    ...overrides,
  };
}

/** The CloudEvent the exporter sends for `raw` (shared contract mapping). */
export function eventFor(
  raw: Record<string, unknown>,
  from: TraceOrigin = origin,
): ReturnType<typeof traceToCloudEvent> {
  return traceToCloudEvent(CtsTrace.parse(raw), raw, { origin: from });
}

/** The sink's connection settings for the test server; `overrides` replace some of them. */
export function connectionTo(
  neo: TestNeo4j,
  overrides: Partial<Neo4jConnectionConfig> = {},
): Neo4jConnectionConfig {
  return {
    uri: neo.uri,
    user: neo.user,
    password: neo.password,
    database: undefined,
    ...overrides,
  };
}

/** POSTs an HttpMessage built by the shared binding helpers. */
export const send = (url: string, message: HttpMessage): Promise<HttpAnswer> =>
  httpPost(url, message);

/** A single number from a Cypher query returning one row with column `n`. */
export async function count(
  driver: Driver,
  cypher: string,
  parameters: Record<string, unknown> = {},
): Promise<number> {
  const result = await driver.executeQuery(cypher, parameters);
  const value: unknown = result.records[0]?.get("n");
  return typeof value === "number" ? value : Number(value);
}

/** Counts of every label and relationship type, to compare before and after a write. */
export async function graphCounts(driver: Driver): Promise<Record<string, number>> {
  const nodes = await driver.executeQuery(
    "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label",
  );
  const rels = await driver.executeQuery(
    "MATCH ()-[r]->() RETURN type(r) AS label, count(*) AS n ORDER BY label",
  );
  const out: Record<string, number> = {};
  for (const record of [...nodes.records, ...rels.records]) {
    out[record.get("label") as string] = Number(record.get("n"));
  }
  return out;
}
