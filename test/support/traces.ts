import type { RawCtsTrace } from "@cts/shared";

/**
 * An ordinary CTS trace (an ECS server update by alice, rated normal) with id `id` at `time`;
 * `extra` replaces fields. Its resource name and id derive from `id`, so each trace has its own
 * Resource in the graph.
 */
export function sampleTrace(
  id: string,
  time: number,
  extra: Partial<RawCtsTrace> = {},
): RawCtsTrace {
  return {
    trace_id: id,
    trace_name: "updateServer",
    trace_rating: "normal",
    trace_type: "ApiCall",
    service_type: "ECS",
    resource_type: "server",
    resource_name: `srv-${id}`,
    resource_id: `id-${id}`,
    source_ip: "192.0.2.7",
    code: "200",
    time,
    record_time: time + 500,
    user: { id: "u-1", name: "alice", domain: { id: "d-1", name: "OTC00000000001000000001" } },
    ...extra,
  };
}
