import { batchMessage, binaryMessage } from "@cts/shared";
import { requestToGraphRows, SINK_DEFAULTS, type GraphRow } from "@cts/neo4j_sink";
import type { BenchEvent } from "./event-set.js";
import type { Shot } from "./http-load.js";

/** One binary-mode request per event, as the exporter sends by default. */
export function binaryShots(events: readonly BenchEvent[]): Shot[] {
  return events.map((event) => ({ message: binaryMessage(event), events: 1 }));
}

/** Batch-mode requests of `size` events each. */
export function batchShots(events: readonly BenchEvent[], size: number): Shot[] {
  const shots: Shot[] = [];
  for (let start = 0; start < events.length; start += size) {
    const chunk = events.slice(start, start + size);
    shots.push({ message: batchMessage(chunk), events: chunk.length });
  }
  return shots;
}

/**
 * The rows the sink would write for these events: encoded in binary mode, then parsed and
 * mapped by the sink's own code, so direct writes store exactly what the HTTP path stores.
 */
export function graphRows(events: readonly BenchEvent[]): GraphRow[] {
  const options = { maxTextChars: SINK_DEFAULTS.maxTextChars };
  return events.flatMap((event) => requestToGraphRows(binaryMessage(event), options).rows);
}
