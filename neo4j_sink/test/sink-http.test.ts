import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { batchMessage, binaryMessage, structuredMessage } from "@cts/shared";
import { httpPost } from "@cts/devkit";
import { sinkForSuite } from "../src/testing.js";
import { count, eventFor, rawTrace, send } from "./helpers.js";

/** Sends `body` in pieces without Content-Length (chunked), as a streaming client would. */
function postChunked(url: string, headers: Record<string, string>, pieces: readonly string[]) {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on("error", reject);
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

describe("neo4j_sink HTTP contract (real Neo4j)", () => {
  const ctx = sinkForSuite({ maxBodyBytes: 8192, retryAfterSeconds: 7 });

  test("202 with an empty body for each mode; upper-case charset and media type work", async () => {
    const event = eventFor(rawTrace({ trace_id: "http-1" }));
    const structured = structuredMessage(event);
    const answers = await Promise.all([
      send(ctx.sink.url, binaryMessage(event)),
      httpPost(ctx.sink.url, {
        headers: { "content-type": "Application/CloudEvents+JSON; charset=UTF-8" },
        body: structured.body,
      }),
      send(ctx.sink.url, batchMessage([event])),
    ]);
    for (const answer of answers) {
      assert.equal(answer.status, 202, answer.body);
      assert.equal(answer.body, "");
    }
    assert.equal(
      await count(ctx.neo.driver, "MATCH (a:Action {id: 'http-1'}) RETURN count(a) AS n"),
      1,
    );
  });

  test("400 with a JSON reason for an invalid CloudEvent or a data that is no CTS trace", async () => {
    const event = eventFor(rawTrace({ trace_id: "http-400" }));
    const binary = binaryMessage(event);
    const withoutId = Object.fromEntries(
      Object.entries(binary.headers).filter(([name]) => name !== "ce-id"),
    );
    const cases = [
      { headers: withoutId, body: binary.body, code: "CE_INVALID", reason: /"id"/ },
      {
        headers: { ...binary.headers, "ce-time": "not-a-time" },
        body: binary.body,
        code: "CE_INVALID",
        reason: /time/,
      },
      {
        headers: { ...binary.headers, "ce-specversion": "0.3" },
        body: binary.body,
        code: "CE_INVALID",
        reason: /specversion/,
      },
      {
        headers: binary.headers,
        body: '{"trace_id": 1}',
        code: "CE_DATA_INVALID",
        reason: /CTS trace/,
      },
      {
        headers: { "content-type": "application/json" },
        body: "{}",
        code: "CE_INVALID",
        reason: /no CloudEvent/,
      },
      {
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ ...JSON.parse(structuredMessage(event).body), source: undefined }),
        code: "CE_INVALID",
        reason: /"source"/,
      },
    ];
    for (const { headers, body, code, reason } of cases) {
      const answer = await httpPost(ctx.sink.url, { headers, body });
      assert.equal(answer.status, 400, `${code}: ${answer.body}`);
      assert.match(String(answer.headers["content-type"]), /application\/json/);
      const json = JSON.parse(answer.body) as { error: string; reason: string };
      assert.equal(json.error, code);
      assert.match(json.reason, reason);
    }
    assert.equal(
      await count(ctx.neo.driver, "MATCH (a:Action {id: 'http-400'}) RETURN count(a) AS n"),
      0,
    );
  });

  test("every 400 for a request with a valid ce-id names that event id", async () => {
    const binary = binaryMessage(eventFor(rawTrace({ trace_id: "http-400-id" })));
    const cases = [
      { headers: { ...binary.headers, "ce-subject": "%FF%FE" }, body: binary.body },
      { headers: { ...binary.headers, "ce-type": ["a.b", "c.d"] }, body: binary.body },
      { headers: binary.headers, body: "{not json" },
      {
        headers: { ...binary.headers, "content-type": ["application/json", "text/x"] },
        body: "{}",
      },
    ];
    for (const { headers, body } of cases) {
      const answer = await httpPost(ctx.sink.url, { headers, body });
      assert.equal(answer.status, 400, answer.body);
      const json = JSON.parse(answer.body) as { eventId?: string; reason: string };
      assert.equal(json.eventId, "http-400-id", answer.body);
      assert.match(json.reason, /id "http-400-id"/);
    }
  });

  test("413 beyond the body limit, declared or streamed, on a connection that stays usable", async () => {
    const big = binaryMessage(
      eventFor(rawTrace({ trace_id: "http-413", request: "x".repeat(10_000) })),
    );
    const answer = await send(ctx.sink.url, big);
    assert.equal(answer.status, 413);
    assert.equal((JSON.parse(answer.body) as { error: string }).error, "PAYLOAD_TOO_LARGE");
    const streamed = await postChunked(
      ctx.sink.url,
      big.headers,
      Array.from({ length: 10 }, (_, i) => big.body.slice(i * 1100, (i + 1) * 1100)),
    );
    assert.equal(streamed, 413);
    const small = await send(
      ctx.sink.url,
      binaryMessage(eventFor(rawTrace({ trace_id: "http-ok" }))),
    );
    assert.equal(small.status, 202);
  });

  test("415 for media types that are not CloudEvents JSON", async () => {
    const event = eventFor(rawTrace({ trace_id: "http-415" }));
    for (const contentType of ["text/plain", "application/cloudevents+xml", "application/xml"]) {
      const answer = await httpPost(ctx.sink.url, {
        headers: { ...binaryMessage(event).headers, "content-type": contentType },
        body: "x",
      });
      assert.equal(answer.status, 415, contentType);
      assert.equal((JSON.parse(answer.body) as { error: string }).error, "UNSUPPORTED_MEDIA_TYPE");
    }
  });

  test("healthz, readyz and metrics; other methods and paths are refused", async () => {
    const health = await fetch(`${ctx.sink.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${ctx.sink.url}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: "ready" }]);
    const metrics = await (await fetch(`${ctx.sink.url}/metrics`)).text();
    for (const line of [
      /^neo4j_sink_events_received_total\{mode="binary"\} \d+/m,
      /^neo4j_sink_events_written_total \d+/m,
      /^neo4j_sink_events_rejected_total\{reason="invalid_event"\} \d+/m,
      /^neo4j_sink_events_rejected_total\{reason="too_large"\} \d+/m,
      /^neo4j_sink_batch_size_events_bucket/m,
      /^neo4j_sink_write_duration_seconds_bucket/m,
      /^neo4j_sink_process_cpu_seconds_total/m,
    ]) {
      assert.match(metrics, line);
    }
    const get = await fetch(ctx.sink.url);
    assert.equal(get.status, 405);
    assert.match(get.headers.get("allow") ?? "", /POST/);
    const options = await fetch(ctx.sink.url, { method: "OPTIONS" });
    assert.match(options.headers.get("allow") ?? "", /POST/);
    assert.equal((await fetch(`${ctx.sink.url}/nope`, { method: "POST" })).status, 404);
  });
});
