import {
  decodeEvents,
  detectContentMode,
  type ContentMode,
  type RequestHeaders,
} from "@cts/shared";
import { eventToGraphRow, type GraphRow, type RowOptions } from "./graph-rows.js";
import { readReceivedEvent, type ReceivedEvent } from "./received-event.js";

/** What one request turns into: its mode, its events and their graph rows. */
interface ParsedRequest {
  readonly mode: ContentMode;
  readonly events: readonly ReceivedEvent[];
  readonly rows: readonly GraphRow[];
}

/**
 * The whole pure path from an HTTP request to graph rows: mode detection and decoding by the
 * shared CloudEvents codec, the CTS trace check, mapping. Throws the codec's AppErrors. The HTTP
 * app uses it; so can a benchmark that feeds `buildWriteBatch` and `writeStatements` directly
 * (e.g. with `batchMessage(events)` from @cts/shared as the request).
 */
export function requestToGraphRows(
  request: {
    readonly headers: RequestHeaders;
    readonly body: string;
    /** The mode when the caller already detected it (before reading the body). */
    readonly mode?: ContentMode;
  },
  options: RowOptions,
): ParsedRequest {
  const mode = request.mode ?? detectContentMode(request.headers);
  const events = decodeEvents({ ...request, mode }, readReceivedEvent);
  return { mode, events, rows: events.map((event) => eventToGraphRow(event, options)) };
}
