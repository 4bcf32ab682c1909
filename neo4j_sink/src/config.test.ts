import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sinkConfigFromEnv, SINK_DEFAULTS } from "./config.js";

describe("sink configuration from the environment", () => {
  test("defaults of docs/event-contract.md section 5", () => {
    const config = sinkConfigFromEnv({ NEO4J_PASSWORD: "secret-pw" });
    assert.deepEqual(config.neo4j, {
      uri: "neo4j://localhost:7687",
      user: "neo4j",
      password: "secret-pw",
      database: undefined,
    });
    assert.equal(config.port, 8080);
    assert.equal(config.maxBodyBytes, 1024 * 1024);
    assert.deepEqual({ ...config, neo4j: undefined }, { ...SINK_DEFAULTS, neo4j: undefined });
  });

  test("every variable is read; empty values count as unset", () => {
    const config = sinkConfigFromEnv({
      NEO4J_URI: "neo4j+ssc://db.example:7687",
      NEO4J_USER: "ingest",
      NEO4J_PASSWORD: "secret-pw",
      NEO4J_DATABASE: "audit",
      PORT: "9000",
      SINK_HOST: "127.0.0.1",
      SINK_MAX_BODY_BYTES: "2048",
      SINK_BATCH_LINGER_MS: "0",
      SINK_BATCH_MAX_EVENTS: "500",
      SINK_QUEUE_MAX_EVENTS: "5000",
      SINK_MAX_TEXT_CHARS: "100",
      SINK_RETRY_AFTER_SECONDS: "2",
      SINK_STARTUP_TIMEOUT_SECONDS: "3",
      SINK_OIDC_ISSUER: "https://kubernetes.default.svc",
      SINK_OIDC_AUDIENCE: "sinks/neo4j-sink",
      SINK_OIDC_JWKS_URI: "https://kubernetes.default.svc/openid/v1/jwks",
      LOG_LEVEL: "debug",
    });
    assert.deepEqual(config, {
      neo4j: {
        uri: "neo4j+ssc://db.example:7687",
        user: "ingest",
        password: "secret-pw",
        database: "audit",
      },
      port: 9000,
      host: "127.0.0.1",
      maxBodyBytes: 2048,
      batchLingerMs: 0,
      batchMaxEvents: 500,
      queueMaxEvents: 5000,
      maxTextChars: 100,
      retryAfterSeconds: 2,
      startupTimeoutMs: 3000,
      logLevel: "debug",
      senderIdentity: {
        issuer: "https://kubernetes.default.svc",
        audience: "sinks/neo4j-sink",
        jwksUri: "https://kubernetes.default.svc/openid/v1/jwks",
      },
    });
    assert.equal(
      sinkConfigFromEnv({ NEO4J_PASSWORD: "x", PORT: "", NEO4J_DATABASE: "" }).port,
      8080,
    );
  });

  test("bad values fail with CONFIG_INVALID naming each variable, never echoing the password", () => {
    assert.throws(
      () =>
        sinkConfigFromEnv({
          NEO4J_PASSWORD: "p@ss-Very-Secret",
          NEO4J_URI: "http://db:7474",
          PORT: "eighty",
          SINK_BATCH_MAX_EVENTS: "0",
        }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "CONFIG_INVALID");
        for (const name of ["NEO4J_URI", "PORT", "SINK_BATCH_MAX_EVENTS"]) {
          assert.match(error.message, new RegExp(name));
        }
        assert.ok(!error.message.includes("p@ss-Very-Secret"));
        return true;
      },
    );
    assert.throws(() => sinkConfigFromEnv({}), /NEO4J_PASSWORD is required/);
    assert.throws(() => sinkConfigFromEnv({ NEO4J_PASSWORD: "" }), /NEO4J_PASSWORD is required/);
  });
});
