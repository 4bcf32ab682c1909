import assert from "node:assert/strict";
import { batchMessage, CtsTrace, traceToCloudEvent, type RawCtsTrace } from "@cts/shared";
import { euDeOrigin } from "@cts/neo4j_sink/testing";

/** Where the fixtures' traces come from, as the exporter would say it. */
export const ORIGIN = euDeOrigin("0b7c5e1f2d3a4b5c6d7e8f9a0b1c2d3e", "dom-home");

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
