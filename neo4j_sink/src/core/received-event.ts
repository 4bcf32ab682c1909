import {
  CtsTrace,
  ErrorCode,
  invalidEvent,
  type EventContext,
  type ReadEvent,
  type Where,
} from "@cts/shared";
import { z } from "zod";

/** A received CloudEvent whose `data` is a validated CTS trace: where the sink's core starts. */
export interface ReceivedEvent extends EventContext {
  readonly trace: CtsTrace;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The data of an event the sink stores must be a CTS trace (docs/event-contract.md section 2). */
function checkTrace(data: unknown, where: Where): CtsTrace {
  if (!isPlainObject(data)) {
    throw invalidEvent(
      "data must be a CTS trace (a JSON object)",
      where,
      ErrorCode.CE_DATA_INVALID,
    );
  }
  const parsed = CtsTrace.safeParse(data);
  if (!parsed.success) {
    const reason = z.prettifyError(parsed.error).replace(/\s*\n\s*/g, " ");
    throw invalidEvent(
      `data is not a CTS trace: ${reason.slice(0, 400)}`,
      where,
      ErrorCode.CE_DATA_INVALID,
    );
  }
  // The schema admits 16-digit epoch milliseconds; a Date (and a Neo4j DateTime) does not.
  for (const field of ["time", "record_time"] as const) {
    const millis = parsed.data[field];
    if (typeof millis === "number" && Number.isNaN(new Date(millis).getTime())) {
      throw invalidEvent(`data.${field} is out of range`, where, ErrorCode.CE_DATA_INVALID);
    }
  }
  return parsed.data;
}

/**
 * The sink's reader for the shared decoder (`decodeEvents`): a decoded event becomes a
 * ReceivedEvent once its data is a CTS trace; otherwise the event is refused with CE_DATA_INVALID.
 */
export const readReceivedEvent: ReadEvent<ReceivedEvent> = (context, data, where) => ({
  ...context,
  trace: checkTrace(data, where),
});
