import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { binaryMessage } from "@cts/shared";
import { freePort, leakedSecrets, neo4jForSuite, startService, waitForHttp } from "@cts/devkit";
import { count, eventFor, rawTrace, send } from "./helpers.js";

/** Runs `src/main.ts` as `pnpm start:sink` would run the build, with only the given env. */
function runSink(env: Record<string, string>) {
  return startService("neo4j_sink", { env });
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("neo4j_sink main (child process)", () => {
  const ctx = neo4jForSuite();

  test("exits 78 without NEO4J_PASSWORD, naming the variable", async () => {
    const sink = runSink({ NEO4J_URI: ctx.neo.uri, PORT: "0" });
    assert.equal(await sink.exited(), 78);
    assert.match(sink.output(), /NEO4J_PASSWORD is required/);
  });

  test("exits 78 on bad credentials with a clear message that never shows the password", async () => {
    // A user that does not exist, so the shared test user is not rate-limited by failed logins.
    const password = "wrong-secret-for-intruder";
    const sink = runSink({
      NEO4J_URI: ctx.neo.uri,
      NEO4J_USER: "intruder",
      NEO4J_PASSWORD: password,
      PORT: "0",
    });
    assert.equal(await sink.exited(), 78);
    const fatal = jsonLines(sink.output()).find((line) => line["level"] === "fatal");
    assert.ok(fatal !== undefined, sink.output());
    assert.equal(fatal["code"], "NEO4J_AUTH_FAILED");
    assert.match(
      String(fatal["msg"]),
      /rejected the credentials of user "intruder".*NEO4J_PASSWORD/,
    );
    assert.deepEqual(leakedSecrets(sink.output(), [password]), []);
  });

  test("serves, logs JSON with event ids, and on SIGTERM answers what it accepted, then exits 0", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const sink = runSink({
      NEO4J_URI: ctx.neo.uri,
      NEO4J_USER: ctx.neo.user,
      NEO4J_PASSWORD: ctx.neo.password,
      PORT: String(port),
      LOG_LEVEL: "debug",
    });
    try {
      await waitForHttp(`${url}/readyz`, { process: sink, timeoutMs: 60_000 });
      const first = await send(url, binaryMessage(eventFor(rawTrace({ trace_id: "main-1" }))));
      assert.equal(first.status, 202);
      const bad = binaryMessage(eventFor(rawTrace({ trace_id: "main-bad" })));
      const rejected = await send(url, { ...bad, headers: { ...bad.headers, "ce-time": "never" } });
      assert.equal(rejected.status, 400);

      const burst = Array.from({ length: 30 }, (_, i) =>
        send(url, binaryMessage(eventFor(rawTrace({ trace_id: `main-burst-${i}` })))).then(
          (answer) => ({ id: `main-burst-${i}`, status: answer.status }),
          () => ({ id: `main-burst-${i}`, status: 0 }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const exit = sink.stop("SIGTERM");
      const answers = await Promise.all(burst);
      assert.equal(await exit, 0);
      const acked = answers.filter((a) => a.status === 202).map((a) => a.id);
      for (const answer of answers)
        assert.ok([0, 202, 503].includes(answer.status), String(answer.status));
      assert.equal(
        await count(
          ctx.neo.driver,
          "UNWIND $ids AS id MATCH (a:Action {id: id}) RETURN count(a) AS n",
          {
            ids: ["main-1", ...acked],
          },
        ),
        acked.length + 1,
        "every accepted event was flushed before the exit",
      );

      const lines = jsonLines(sink.output());
      assert.ok(lines.length > 0);
      assert.ok(lines.every((line) => line["service"] === "neo4j_sink"));
      assert.ok(
        lines.some((line) => line["msg"] === "neo4j_sink listening" && line["port"] === port),
      );
      const stored = lines.find((line) => line["msg"] === "events stored");
      assert.deepEqual(stored?.["eventIds"], ["main-1"]);
      const warn = lines.find((line) => line["msg"] === "request rejected");
      assert.ok(warn !== undefined);
      assert.equal(warn["eventId"], "main-bad", "a rejection names the event");
      assert.match(String(warn["reason"]), /time/);
      assert.ok(lines.some((line) => line["msg"] === "stopped"));
      assert.deepEqual(leakedSecrets(sink.output(), [ctx.neo.password]), []);
    } finally {
      await sink.stop("SIGKILL");
    }
  });
});
