import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { neo4jForSuite } from "@cts/devkit";
import {
  createDriver,
  describeNeo4jError,
  verifyConnection,
} from "../src/adapters/neo4j-connection.js";
import { connectionTo } from "./helpers.js";

describe("Neo4j connection (real server)", () => {
  const ctx = neo4jForSuite();

  test("writes and reads back through neo4j-driver with Basic Auth", async () => {
    const config = connectionTo(ctx.neo);
    const driver = createDriver(config);
    try {
      await verifyConnection(driver, config);
      await driver.executeQuery("CREATE (:Probe {id: $id, text: $text})", {
        id: "p1",
        text: "Prüfserver 東京",
      });
      const result = await driver.executeQuery("MATCH (p:Probe {id: $id}) RETURN p.text AS text", {
        id: "p1",
      });
      assert.deepEqual(
        result.records.map((r) => r.get("text") as string),
        ["Prüfserver 東京"],
      );
    } finally {
      await driver.close();
    }
  });

  test("a wrong password fails with NEO4J_AUTH_FAILED and a message that names what to check", async () => {
    const wrong = "definitely-not-the-password";
    const config = connectionTo(ctx.neo, { password: wrong });
    const driver = createDriver(config);
    try {
      await assert.rejects(verifyConnection(driver, config), (error: Error & { code?: string }) => {
        assert.equal(error.code, "NEO4J_AUTH_FAILED");
        assert.match(error.message, /rejected the credentials of user "neo4j"/);
        assert.match(error.message, /NEO4J_PASSWORD/);
        assert.ok(!error.message.includes(wrong), "the message must not echo the password");
        return true;
      });
    } finally {
      await driver.close();
    }
  });

  test("the factory default neo4j/neo4j is not accepted", async () => {
    const config = connectionTo(ctx.neo, { user: "neo4j", password: "neo4j" });
    const driver = createDriver(config);
    try {
      await assert.rejects(verifyConnection(driver, config), { code: "NEO4J_AUTH_FAILED" });
    } finally {
      await driver.close();
    }
  });

  test("a real deadlock between two writers is contention (NEO4J_TRANSIENT), not an outage", async () => {
    const config = connectionTo(ctx.neo);
    await ctx.neo.driver.executeQuery("CREATE (:Lock {id: 'x'}), (:Lock {id: 'y'})");
    const first = ctx.neo.driver.session();
    const second = ctx.neo.driver.session();
    const one = first.beginTransaction();
    const two = second.beginTransaction();
    try {
      await one.run("MATCH (n:Lock {id: 'x'}) SET n.by = 1");
      await two.run("MATCH (n:Lock {id: 'y'}) SET n.by = 2");
      // Each now waits for the lock the other holds: Neo4j breaks the cycle in one of them.
      const outcomes = await Promise.allSettled([
        one.run("MATCH (n:Lock {id: 'y'}) SET n.by = 1"),
        two.run("MATCH (n:Lock {id: 'x'}) SET n.by = 2"),
      ]);
      const failures = outcomes.filter((o) => o.status === "rejected");
      assert.equal(failures.length, 1, "exactly one side is chosen as the deadlock victim");
      const failure = failures[0];
      assert.ok(failure?.status === "rejected");
      const error = describeNeo4jError(failure.reason, config);
      assert.equal(error.code, "NEO4J_TRANSIENT", error.message);
      assert.match(error.message, /DeadlockDetected/);
    } finally {
      for (const tx of [one, two]) if (tx.isOpen()) await tx.rollback().catch(() => undefined);
      await first.close();
      await second.close();
    }
  });
});
