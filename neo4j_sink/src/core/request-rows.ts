import {
  detectContentMode,
  parseCloudEvents,
  type ContentMode,
  type ReceivedEvent,
  type RequestHeaders,
} from "./cloudevent-parser.js";
import { eventToGraphRow, type GraphRow, type RowOptions } from "./graph-rows.js";

/** What one request turns into: its mode, its events and their graph rows. */
interface ParsedRequest {
  readonly mode: ContentMode;
  readonly events: readonly ReceivedEvent[];
  readonly rows: readonly GraphRow[];
}

/**
 * The whole pure path from an HTTP request to graph rows: mode detection, CloudEvent parsing
 * and validation, mapping. Throws the AppErrors of the parser. The HTTP app uses it; so can a
 * benchmark that feeds `buildWriteBatch` and `writeStatements` directly (e.g. with
 * `batchMessage(events)` from @cts/shared as the request).
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
  const events = parseCloudEvents(mode, request.headers, request.body);
  return { mode, events, rows: events.map((event) => eventToGraphRow(event, options)) };
}
