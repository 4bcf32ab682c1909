// Test support for the tests that feed a real sink: this package's own and those of
// detections. Exported as "@cts/neo4j_sink/testing" from the sources only (the "@cts/source"
// condition): it is not built, so the image does not carry it.
import { after, before } from "node:test";
import { createLogger, type TraceOrigin } from "@cts/shared";
import { freshNeo4j, started, type TestNeo4j } from "@cts/devkit";
import { startSink, type RunningSink, type StartSinkConfig } from "./sink.js";

/** Where the traces of the eu-de project `projectId` come from, as the exporter says it. */
export function euDeOrigin(projectId: string, domainId: string): TraceOrigin {
  return {
    source: `https://cts.eu-de.otc.t-systems.com/v3/${projectId}`,
    region: "eu-de",
    projectId,
    domainId,
  };
}

/** The real sink (HTTP app, batch writer, schema) on a free loopback port, logging nothing. */
export function startTestSink(
  neo: Pick<TestNeo4j, "uri" | "user" | "password">,
  overrides: Partial<StartSinkConfig> = {},
): Promise<RunningSink> {
  return startSink(
    {
      neo4j: { uri: neo.uri, user: neo.user, password: neo.password },
      port: 0,
      host: "127.0.0.1",
      startupTimeoutMs: 5_000,
      ...overrides,
    },
    { logger: createLogger({ name: "neo4j_sink-test", level: "silent" }) },
  );
}

/**
 * A test sink on an emptied database for the enclosing suite: started in its `before`, closed
 * in its `after` (the sink first, then the driver; what failed to start is not closed, so a
 * failed start ends the file instead of leaving the driver open). Read `neo` and `sink` inside
 * tests and later hooks.
 */
export function sinkForSuite(overrides: Partial<StartSinkConfig> = {}): {
  readonly neo: TestNeo4j;
  readonly sink: RunningSink;
} {
  let neo: TestNeo4j | undefined;
  let sink: RunningSink | undefined;
  before(async () => {
    neo = await freshNeo4j();
    sink = await startTestSink(neo, overrides);
  });
  after(async () => {
    await sink?.close();
    await neo?.close();
  });
  return {
    get neo() {
      return started(neo);
    },
    get sink() {
      return started(sink);
    },
  };
}
