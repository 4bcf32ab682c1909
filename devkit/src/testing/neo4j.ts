import { after, before } from "node:test";
import neo4j, { type Driver } from "neo4j-driver";

export interface TestNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly driver: Driver;
  close(): Promise<void>;
}

/** Connection settings of the test server that scripts/test.sh started (or NEO4J_URI's). */
function testNeo4jSettings(): { uri: string; user: string; password: string } {
  const uri = process.env["NEO4J_URI"];
  const password = process.env["NEO4J_PASSWORD"];
  if (uri === undefined || password === undefined) {
    throw new Error(
      "integration tests need Neo4j: run them through `pnpm test` (it starts a server), " +
        "or set NEO4J_URI and NEO4J_PASSWORD to an existing server whose data may be deleted",
    );
  }
  return { uri, user: process.env["NEO4J_USER"] ?? "neo4j", password };
}

/** Removes every node, relationship, constraint and index, so a test file starts from nothing. */
export async function resetDatabase(driver: Driver): Promise<void> {
  const constraints = await driver.executeQuery("SHOW CONSTRAINTS YIELD name RETURN name");
  for (const record of constraints.records) {
    await driver.executeQuery(`DROP CONSTRAINT \`${String(record.get("name"))}\` IF EXISTS`);
  }
  const indexes = await driver.executeQuery(
    "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
  );
  for (const record of indexes.records) {
    await driver.executeQuery(`DROP INDEX \`${String(record.get("name"))}\` IF EXISTS`);
  }
  const session = driver.session();
  try {
    // Relationships first, in bounded transactions: a hub node (a Project with 100k actions)
    // DETACH DELETEd in one go would take all its relationships into one transaction's memory.
    await session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS");
    await session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS");
  } finally {
    await session.close();
  }
}

/** A driver on the test server with an emptied database. Call `close()` in `after()`. */
export async function freshNeo4j(): Promise<TestNeo4j> {
  const settings = testNeo4jSettings();
  const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password), {
    logging: { level: "error", logger: () => undefined },
  });
  await resetDatabase(driver);
  return { ...settings, driver, close: () => driver.close() };
}

/** `value` once the suite's `before` has set it; read too early, a clear error. */
export function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("read inside tests and later hooks, after before()");
  return value;
}

/**
 * A fresh Neo4j for the enclosing suite: opened in its `before`, closed in its `after`. Read
 * `neo` inside tests and later hooks.
 */
export function neo4jForSuite(): { readonly neo: TestNeo4j } {
  let neo: TestNeo4j | undefined;
  before(async () => {
    neo = await freshNeo4j();
  });
  after(async () => {
    await neo?.close();
  });
  return {
    get neo() {
      return started(neo);
    },
  };
}
