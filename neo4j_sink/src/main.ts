/**
 * `pnpm start:sink`: the neo4j_sink service, configured from the environment (docs/event-contract.md
 * section 5). Exit codes: 78 bad configuration or credentials, 69 Neo4j unreachable at start,
 * 70 anything else; 0 after a graceful SIGTERM/SIGINT.
 */
import { createLogger, ErrorCode, startTelemetry, toAppError, type AppError } from "@cts/shared";
import { sinkConfigFromEnv } from "./config.js";
import { startSink } from "./sink.js";

const EXIT = { config: 78, unavailable: 69, software: 70 } as const;

function exitCodeOf(error: AppError): number {
  switch (error.code) {
    case ErrorCode.CONFIG_INVALID:
    case ErrorCode.NEO4J_AUTH_FAILED:
      return EXIT.config;
    case ErrorCode.NEO4J_UNAVAILABLE:
      return EXIT.unavailable;
    default:
      return EXIT.software;
  }
}

async function main(): Promise<number> {
  let config;
  try {
    config = sinkConfigFromEnv(process.env);
  } catch (error) {
    const appError = toAppError(error);
    createLogger({ name: "neo4j_sink" }).fatal({ code: appError.code }, appError.message);
    return exitCodeOf(appError);
  }
  const logger = createLogger({ name: "neo4j_sink", level: config.logLevel });
  // Without an OTLP endpoint in the environment this loads nothing.
  const telemetry = await startTelemetry({ env: process.env, serviceName: "neo4j_sink", logger });
  let sink;
  try {
    sink = await startSink(config, { logger });
  } catch (error) {
    const appError = toAppError(error);
    logger.fatal({ code: appError.code }, appError.message);
    await telemetry.shutdown();
    return exitCodeOf(appError);
  }
  logger.info({ url: sink.url, port: sink.port, neo4j: config.neo4j.uri }, "neo4j_sink listening");
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => {
      resolve("SIGTERM");
    });
    process.once("SIGINT", () => {
      resolve("SIGINT");
    });
  });
  logger.info({ signal }, "shutting down: flushing the current batch");
  await sink.close();
  await telemetry.shutdown();
  logger.info("stopped");
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`neo4j_sink: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.software;
  },
);
