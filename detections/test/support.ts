import assert from "node:assert/strict";
import {
  batchMessage,
  createLogger,
  CtsTrace,
  traceToCloudEvent,
  type RawCtsTrace,
} from "@cts/shared";
import type { TestNeo4j } from "@cts/devkit";
import { startSink, type RunningSink } from "@cts/neo4j_sink";

export const PROJECT_ID = "0b7c5e1f2d3a4b5c6d7e8f9a0b1c2d3e";

/** Where the fixtures' traces come from, as the exporter would say it. */
export const ORIGIN = {
  source: `https://cts.eu-de.otc.t-systems.com/v3/${PROJECT_ID}`,
  region: "eu-de",
  projectId: PROJECT_ID,
  domainId: "dom-home",
};

/** The real sink (HTTP app, batch writer, schema) on a loopback port, logging nothing. */
export function startTestSink(
  neo: Pick<TestNeo4j, "uri" | "user" | "password">,
): Promise<RunningSink> {
  return startSink(
    {
      neo4j: { uri: neo.uri, user: neo.user, password: neo.password },
      port: 0,
      host: "127.0.0.1",
      startupTimeoutMs: 5_000,
    },
    { logger: createLogger({ name: "detections-test", level: "silent" }) },
  );
}

/**
 * Posts `traces` to the sink as CloudEvents batches (the exporter's batch mode), `perRequest`
 * at a time, and fails unless every request is answered 202 (stored after commit).
 */
export async function loadThroughSink(
  url: string,
  traces: readonly RawCtsTrace[],
  perRequest = 400,
): Promise<void> {
  for (let start = 0; start < traces.length; start += perRequest) {
    const events = traces
      .slice(start, start + perRequest)
      .map((raw) => traceToCloudEvent(CtsTrace.parse(raw), raw, { origin: ORIGIN }));
    const message = batchMessage(events);
    const answer = await fetch(url, {
      method: "POST",
      headers: message.headers as Record<string, string>,
      body: message.body,
    });
    assert.equal(answer.status, 202, await answer.text());
  }
}
