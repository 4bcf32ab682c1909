import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { batchMessage, binaryMessage, structuredMessage } from "@cts/shared";
import { sinkForSuite } from "../src/testing.js";
import { eventFor, rawTrace, send } from "./helpers.js";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("neo4j_sink keeps the CloudEvents distributed-tracing extension of any sender", () => {
  const ctx = sinkForSuite();

  async function stored(id: string) {
    const result = await ctx.neo.driver.executeQuery(
      "MATCH (a:Action {id: $id}) RETURN a.traceparent AS traceparent, a.tracestate AS tracestate",
      { id },
    );
    const record = result.records[0];
    assert.ok(record, `Action ${id} exists`);
    return {
      traceparent: record.get("traceparent") as unknown,
      tracestate: record.get("tracestate") as unknown,
    };
  }

  test("binary, structured and batch mode: traceparent and tracestate become Action properties", async () => {
    const traced = (id: string) => ({
      ...eventFor(rawTrace({ trace_id: id })),
      traceparent: PARENT,
      tracestate: "vendor=opaque",
    });
    for (const [id, message] of [
      ["tc-binary", binaryMessage(traced("tc-binary"))],
      ["tc-structured", structuredMessage(traced("tc-structured"))],
      ["tc-batch", batchMessage([traced("tc-batch")])],
    ] as const) {
      const answer = await send(ctx.sink.url, message);
      assert.equal(answer.status, 202, answer.body);
      assert.deepEqual(await stored(id), { traceparent: PARENT, tracestate: "vendor=opaque" }, id);
    }
  });

  test("a value that is not a valid W3C traceparent is still kept as sent; none means none", async () => {
    const odd = { ...eventFor(rawTrace({ trace_id: "tc-odd" })), traceparent: "not-a-traceparent" };
    assert.equal((await send(ctx.sink.url, binaryMessage(odd))).status, 202);
    assert.deepEqual(await stored("tc-odd"), {
      traceparent: "not-a-traceparent",
      tracestate: null,
    });
    assert.equal(
      (await send(ctx.sink.url, binaryMessage(eventFor(rawTrace({ trace_id: "tc-none" }))))).status,
      202,
    );
    assert.deepEqual(await stored("tc-none"), { traceparent: null, tracestate: null });
  });
});
