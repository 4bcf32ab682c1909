import neo4j, { Neo4jError, type Driver } from "neo4j-driver";
import { AppError, ErrorCode } from "@cts/shared";
import type { Neo4jConnectionConfig } from "../config.js";

/** One driver per process, Basic Auth only (docs/event-contract.md section 5); TLS comes from the URI scheme. */
export function createDriver(config: Neo4jConnectionConfig): Driver {
  return neo4j.driver(config.uri, neo4j.auth.basic(config.user, config.password), {
    maxConnectionPoolSize: 20,
    connectionAcquisitionTimeout: 10_000,
    connectionTimeout: 5_000,
    maxTransactionRetryTime: 5_000,
    // Pooled connections idle for longer are pinged first, so the first write or probe after a
    // Neo4j restart does not fail on a dead socket.
    connectionLivenessCheckTimeout: 2_000,
    logging: { level: "error", logger: () => undefined },
  });
}

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";

/**
 * Transient errors that mean "another transaction was in the way", not "Neo4j is gone": a
 * deadlock between concurrent writers (several sink replicas), a lock wait that timed out, or
 * any other Neo.TransientError. Connection loss (ServiceUnavailable, SessionExpired, a broken
 * socket) is not among them.
 */
export function isContention(code: string): boolean {
  return (
    code.startsWith("Neo.TransientError.") ||
    code.endsWith(".DeadlockDetected") ||
    code.endsWith(".LockAcquisitionTimeout") ||
    code.endsWith(".LockClientStopped")
  );
}

/**
 * Turns a driver error into an AppError whose message says what to check. The password is
 * never part of it; the user name and URI are.
 */
export function describeNeo4jError(error: unknown, config: Neo4jConnectionConfig): AppError {
  const code = codeOf(error);
  if (code.startsWith("Neo.ClientError.Security.")) {
    return new AppError(
      ErrorCode.NEO4J_AUTH_FAILED,
      `Neo4j at ${config.uri} rejected the credentials of user "${config.user}" (${code}); ` +
        "check NEO4J_USER and NEO4J_PASSWORD",
      { cause: error },
    );
  }
  if (code === "Neo.ClientError.Database.DatabaseNotFound") {
    return new AppError(
      ErrorCode.CONFIG_INVALID,
      `Neo4j at ${config.uri} has no database "${config.database ?? "(default)"}"; check NEO4J_DATABASE`,
      { cause: error },
    );
  }
  if (isContention(code)) {
    return new AppError(
      ErrorCode.NEO4J_TRANSIENT,
      `Neo4j at ${config.uri} answered a transient error (${code}); the write is retried`,
      { cause: error, retryable: true },
    );
  }
  // Codes without the "Neo." prefix come from the driver itself (no connection, pool exhausted,
  // a broken socket): the server was not reached, so trying again later can work.
  const driverSide = error instanceof Neo4jError && !code.startsWith("Neo.");
  if (neo4j.isRetryableError(error) || driverSide) {
    return new AppError(
      ErrorCode.NEO4J_UNAVAILABLE,
      `Neo4j at ${config.uri} is unavailable (${code || "no answer"}); check NEO4J_URI and that the server runs`,
      { cause: error, retryable: true },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AppError(
    ErrorCode.NEO4J_FATAL,
    `Neo4j at ${config.uri} failed: ${code} ${message}`.trim(),
    {
      cause: error,
    },
  );
}

/** Proves connectivity and authentication before the service takes traffic. */
export async function verifyConnection(
  driver: Driver,
  config: Neo4jConnectionConfig,
): Promise<void> {
  try {
    await driver.getServerInfo(config.database === undefined ? {} : { database: config.database });
  } catch (error) {
    throw describeNeo4jError(error, config);
  }
}
