export { runCli } from "./cli-runner.js";
export * as neo4jServer from "./neo4j/server.js";
export { settingsFromEnv, REPO_ROOT } from "./neo4j/settings.js";
export { freshNeo4j, neo4jForSuite, resetDatabase, started } from "./testing/neo4j.js";
export type { TestNeo4j } from "./testing/neo4j.js";
export { startThrowawayNeo4j } from "./testing/throwaway-neo4j.js";
export type { ThrowawayNeo4j } from "./testing/throwaway-neo4j.js";
export {
  freePort,
  leakedSecrets,
  startProcess,
  waitFor,
  waitForHttp,
} from "./testing/processes.js";
export type { ManagedProcess } from "./testing/processes.js";
export { describeCommand, runCommand } from "./testing/run-command.js";
export { startOidcIssuer } from "./testing/oidc-issuer.js";
export type { OidcIssuer } from "./testing/oidc-issuer.js";
export { httpPost, rawExchange, rawStatus } from "./testing/http-client.js";
export type { HttpAnswer, WireHeaders, WireRequest } from "./testing/http-client.js";
export { memoryOf, MiB } from "./testing/process-memory.js";
export { FROM_SOURCES, SERVICE_ENTRY, startNode, startService } from "./testing/service-process.js";
export type { NodeOptions, ServiceOptions } from "./testing/service-process.js";
export { startSinkProcess } from "./testing/sink-process.js";
export type { SinkNeo4j, SinkProcess, SinkProcessOptions } from "./testing/sink-process.js";
export { startCollector } from "./otelcol/collector.js";
export type { RunningCollector } from "./otelcol/collector.js";
export { ancestry, formatTrace, readSpans } from "./otelcol/spans.js";
export type { ReceivedSpan } from "./otelcol/spans.js";
