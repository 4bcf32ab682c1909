import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import type { Driver } from "neo4j-driver";
import { createLogger } from "@cts/shared";
import { SCHEMA_STATEMENTS } from "../core/cypher.js";
import { createGraphStore } from "./graph-store.js";

// A stand-in driver, not a database: what is checked here is the adapter's reaction to a
// server that times a transaction out, which a real server only does under heavy load. Every
// write against a real Neo4j is tested in neo4j_sink/test/.
function timingOutDriver() {
  const schema: string[] = [];
  let rollbacks = 0;
  const timedOut = Object.assign(
    new Error("The transaction has not completed within the timeout"),
    {
      code: "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    },
  );
  const tx = {
    run: () => Promise.reject(timedOut),
    rollback: () => {
      rollbacks++;
      return Promise.resolve();
    },
    isOpen: () => true,
  };
  const session = {
    run: (text: string) => {
      schema.push(text);
      return Promise.resolve({ records: [] });
    },
    beginTransaction: () => tx,
    close: () => Promise.resolve(),
  };
  return {
    driver: { session: () => session } as unknown as Driver,
    schema,
    rollbacks: () => rollbacks,
  };
}

test("a plan warm-up that outlasts the transaction timeout is logged, and the start goes on", async () => {
  const { driver, schema, rollbacks } = timingOutDriver();
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = createLogger({ name: "graph-store-test", level: "warn", destination });
  const store = createGraphStore(
    driver,
    { uri: "bolt://127.0.0.1:1", user: "neo4j", password: "unused", database: undefined },
    { logger, maxBatchEvents: 10 },
  );

  await store.ensureSchema();

  assert.equal(schema.length, SCHEMA_STATEMENTS.length + 1, "constraints, indexes, awaitIndexes");
  assert.equal(rollbacks(), 1, "the timed-out batch was rolled back and no later batch was tried");
  const [line] = lines;
  assert.ok(line !== undefined, "a warning was logged");
  const warning = JSON.parse(line) as Record<string, unknown>;
  assert.equal(warning["level"], "warn");
  assert.match(String(warning["msg"]), /query plan warm-up did not finish/);
  assert.doesNotMatch(lines.join(""), /unused/, "no password in the log line");
});
