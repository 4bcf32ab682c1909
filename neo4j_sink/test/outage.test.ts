import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import neo4j, { type Driver } from "neo4j-driver";
import { binaryMessage } from "@cts/shared";
import { startThrowawayNeo4j, type ThrowawayNeo4j } from "@cts/devkit";
import type { RunningSink } from "../src/index.js";
import { startTestSink } from "../src/testing.js";
import { eventFor, rawTrace, send } from "./helpers.js";

interface Outcome {
  readonly id: string;
  readonly status: number;
  readonly retryAfter: string | undefined;
}

const MAX_REQUESTS = 20_000;

/** Sends distinct events from `workers` loops until `stop()`; records every answer. */
function stream(url: string, workers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  let next = 0;
  const loops = Array.from({ length: workers }, async () => {
    // Bounded, as every request loop of a test is: a few thousand requests at most.
    while (running && next < MAX_REQUESTS) {
      const id = `outage-${next++}`;
      try {
        const answer = await send(url, binaryMessage(eventFor(rawTrace({ trace_id: id }))));
        const retryAfter = answer.headers["retry-after"];
        outcomes.push({
          id,
          status: answer.status,
          retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
        });
        if (answer.status !== 202) await sleep(50);
      } catch {
        outcomes.push({ id, status: 0, retryAfter: undefined });
        await sleep(50);
      }
    }
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe("Neo4j outage in the middle of a stream (private throwaway Neo4j)", () => {
  let neo: ThrowawayNeo4j;
  let sink: RunningSink;
  let driver: Driver;
  before(async () => {
    neo = await startThrowawayNeo4j();
    sink = await startTestSink(neo, { retryAfterSeconds: 2 });
    driver = neo4j.driver(neo.uri, neo4j.auth.basic(neo.user, neo.password), {
      logging: { level: "error", logger: () => undefined },
    });
  });
  after(async () => {
    await sink.close();
    await driver.close();
    await neo.destroy();
  });

  test("answers turn into 503 + Retry-After, the sink recovers by itself, and every 202 is stored", async (t) => {
    const traffic = stream(sink.url, 4);
    // Whatever fails below, the traffic loops end with the test: left running they keep the
    // file, and the whole run, alive forever.
    t.after(() => traffic.stop());
    const acknowledged = () => traffic.outcomes.filter((o) => o.status === 202).length;
    await until("the first acknowledged events", () => acknowledged() >= 40, 30_000);

    // A crash (SIGKILL) rather than a clean stop: harsher, and it takes no shutdown time.
    await neo.kill();
    const stoppedAt = traffic.outcomes.length;
    await until(
      "503 answers",
      () => traffic.outcomes.slice(stoppedAt).some((o) => o.status === 503),
      30_000,
    );
    const ready = await fetch(`${sink.url}/readyz`);
    assert.equal(ready.status, 503, "readyz is red while Neo4j is down");
    assert.equal((await fetch(`${sink.url}/healthz`)).status, 200, "the process stays alive");

    await neo.start();
    await until(
      "readyz green again",
      async () => (await fetch(`${sink.url}/readyz`)).status === 200,
      60_000,
    );
    const recoveredAt = traffic.outcomes.length;
    await until(
      "events acknowledged after the restart",
      () => traffic.outcomes.slice(recoveredAt).filter((o) => o.status === 202).length >= 20,
      30_000,
    );
    await traffic.stop();

    const statuses = new Set(traffic.outcomes.map((o) => o.status));
    assert.deepEqual([...statuses].sort(), [202, 503], "only 202 and 503, never another answer");
    for (const outcome of traffic.outcomes.filter((o) => o.status === 503)) {
      assert.equal(outcome.retryAfter, "2", "every 503 carries Retry-After");
    }
    const acked = traffic.outcomes.filter((o) => o.status === 202).map((o) => o.id);
    const stored = await driver.executeQuery(
      "UNWIND $ids AS id MATCH (a:Action {id: id}) RETURN count(a) AS n",
      { ids: acked },
    );
    assert.equal(
      Number(stored.records[0]?.get("n")),
      acked.length,
      "every acknowledged event is in the graph",
    );
  });
});
