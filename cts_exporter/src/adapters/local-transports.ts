import type { Writable } from "node:stream";
import { eventToJson, type Logger } from "@cts/shared";
import type { EventTransport } from "../core/ports.js";

/** `--dry-run`: every event as one JSON line (the structured JSON format) on stdout. */
export function createDryRunTransport(out: Writable): EventTransport {
  return {
    mode: "dry-run",
    attempt(events) {
      for (const event of events) out.write(`${JSON.stringify(eventToJson(event))}\n`);
      return Promise.resolve({ kind: "response", status: 200, body: "" });
    },
  };
}

/** `CTS_X_PNP=false`: collect and log, send nothing. */
export function createLogOnlyTransport(logger: Logger): EventTransport {
  return {
    mode: "log-only",
    attempt(events) {
      for (const event of events) {
        logger.info(
          { eventId: event.id, type: event.type, subject: event.subject, time: event.time },
          "trace collected",
        );
      }
      return Promise.resolve({ kind: "response", status: 200, body: "" });
    },
  };
}
