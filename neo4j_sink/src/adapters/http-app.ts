import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type Response,
} from "express";
import type { Registry } from "prom-client";
import {
  binaryEventId,
  detectContentMode,
  ErrorCode,
  toAppError,
  withEventId,
  type AppError,
  type Logger,
} from "@cts/shared";
import type { BatchWriter } from "../core/batch-writer.js";
import type { RejectReason, SinkMetrics } from "../core/ports.js";
import { requestToGraphRows } from "../core/request-rows.js";
import { receiveTrace } from "../telemetry.js";
import { readBody } from "./body-reader.js";
import type { VerifySender } from "./sender-identity.js";

/** What the HTTP app needs; `startSink` wires the real ones, tests may wire their own. */
interface AppDeps {
  readonly writer: Pick<BatchWriter, "submit" | "isReady">;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  readonly registry: Registry;
  readonly maxBodyBytes: number;
  readonly maxTextChars: number;
  readonly retryAfterSeconds: number;
  /** Set when SINK_OIDC_* require senders to present a token; undefined accepts anyone. */
  readonly verifySender?: VerifySender;
}

/** The status table of docs/event-contract.md section 3: the only place an error becomes a status. */
function statusOf(error: AppError): { status: number; reason: RejectReason } {
  switch (error.code) {
    case ErrorCode.SENDER_UNAUTHENTICATED:
      return { status: 401, reason: "unauthenticated" };
    case ErrorCode.CE_INVALID:
      return { status: 400, reason: "invalid_event" };
    case ErrorCode.CE_DATA_INVALID:
      return { status: 400, reason: "invalid_data" };
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return { status: 413, reason: "too_large" };
    case ErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return { status: 415, reason: "unsupported_media_type" };
    case ErrorCode.NEO4J_UNAVAILABLE:
    case ErrorCode.NEO4J_AUTH_FAILED:
    case ErrorCode.OIDC_ISSUER_UNAVAILABLE:
      return { status: 503, reason: "unavailable" };
    case ErrorCode.NEO4J_TRANSIENT:
      return { status: 503, reason: "contention" };
    default:
      return { status: 500, reason: "internal" };
  }
}

function sendError(response: Response, error: AppError, deps: AppDeps): number {
  const { status } = statusOf(error);
  if (status === 503) response.set("Retry-After", String(deps.retryAfterSeconds));
  if (status === 401) response.set("WWW-Authenticate", 'Bearer realm="neo4j_sink"');
  // An unexpected error's message may say anything; the client gets the code only.
  const reason = status === 500 ? "internal error; the sink logged the details" : error.message;
  response.status(status).json({ error: error.code, reason, ...error.details });
  return status;
}

/** Logs a refused request: an unexpected error in full, a busy Neo4j quietly, the rest as warnings. */
function logRefusal(logger: Logger, error: AppError, ids: readonly string[]): void {
  const { status } = statusOf(error);
  const fields = {
    status,
    code: error.code,
    reason: error.message,
    ...(ids.length === 0 ? {} : { eventIds: ids.slice(0, 20) }),
    ...error.details,
  };
  if (status === 500) logger.error({ ...fields, err: error.cause }, "request failed");
  else if (status === 503) logger.debug(fields, "request refused; Neo4j unavailable or busy");
  else logger.warn(fields, "request rejected");
}

/**
 * `POST /`: the sender checked, the events parsed and committed, then 202; anything refused
 * gets its status from {@link statusOf}.
 */
function receiveEvents(deps: AppDeps): (request: Request, response: Response) => Promise<void> {
  const { logger, metrics } = deps;
  return async (request, response) => {
    let events = 0;
    let ids: string[] = [];
    const traced = receiveTrace(request.headersDistinct);
    try {
      // Before anything is parsed: an unknown sender costs no body read.
      await deps.verifySender?.(request.headers.authorization);
      const headers = request.headersDistinct;
      // The media type is checked before the body is read, so a 415 costs no upload.
      const mode = detectContentMode(headers);
      const body = await readBody(request, deps.maxBodyBytes);
      const parsed = requestToGraphRows(
        { headers, body, mode },
        { maxTextChars: deps.maxTextChars },
      );
      events = parsed.events.length;
      ids = parsed.events.map((event) => event.id);
      metrics.received(mode, events);
      traced?.parsed(parsed.events, mode);
      await (traced === undefined
        ? deps.writer.submit(parsed.rows)
        : traced.within(() => deps.writer.submit(parsed.rows)));
      logger.debug({ eventIds: ids, mode }, "events stored");
      response.status(202).end();
      traced?.finish(202);
    } catch (error) {
      // A rejection names its event whenever the request carries a usable ce-id.
      const appError = withEventId(toAppError(error), request.headersDistinct);
      const { reason, status } = statusOf(appError);
      metrics.rejected(reason, Math.max(events, 1));
      sendError(response, appError, deps);
      traced?.finish(status, appError);
      logRefusal(logger, appError, ids);
    }
  };
}

/** `/healthz`, `/readyz` (Neo4j reachable, schema ready) and `/metrics`. */
function addOperationRoutes(app: Express, deps: AppDeps): void {
  app.get("/healthz", (_request, response) => {
    response.json({ status: "ok" });
  });

  app.get("/readyz", async (_request, response) => {
    if (await deps.writer.isReady()) {
      response.json({ status: "ready" });
      return;
    }
    response
      .set("Retry-After", String(deps.retryAfterSeconds))
      .status(503)
      .json({ status: "unavailable", reason: "Neo4j is not reachable or its schema is not ready" });
  });

  app.get("/metrics", async (_request, response) => {
    response.set("Content-Type", deps.registry.contentType).send(await deps.registry.metrics());
  });
}

/** The last handler: a client fault express found keeps its 4xx, anything else is logged and mapped. */
function answerUnhandled(deps: AppDeps): ErrorRequestHandler {
  // eslint-disable-next-line max-params -- express knows an error handler by its four parameters
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) return;
    // express and its helpers mark client faults (a malformed path, say) with a 4xx status.
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      const eventId = binaryEventId(request.headersDistinct);
      response.status(status).json({
        error: "BAD_REQUEST",
        reason: "malformed request",
        ...(eventId === undefined ? {} : { eventId }),
      });
      return;
    }
    const appError = toAppError(error);
    deps.logger.error({ code: appError.code, err: error }, "unhandled error");
    sendError(response, appError, deps);
  };
}

/**
 * The sink's express app (no listen): `POST /` takes CloudEvents in binary, structured and
 * batch mode and answers 202 only after their transaction committed; `/healthz`, `/readyz`
 * and `/metrics` serve operations.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");

  app.post("/", receiveEvents(deps));
  app.options("/", (_request, response) => {
    response.set("Allow", "POST, OPTIONS").status(200).end();
  });
  app.all("/", (_request, response) => {
    response
      .set("Allow", "POST, OPTIONS")
      .status(405)
      .json({ error: "METHOD_NOT_ALLOWED", reason: "send CloudEvents with POST /" });
  });

  addOperationRoutes(app, deps);

  app.use((_request: Request, response: Response) => {
    response.status(404).json({ error: "NOT_FOUND", reason: "no such path; events go to POST /" });
  });
  app.use(answerUnhandled(deps));

  return app;
}
