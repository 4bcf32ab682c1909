import neo4j, { type Driver } from "neo4j-driver";
import type { BenchEvent } from "./event-set.js";

/**
 * The original Go sink's write of one event (docs/graph-model.md section 8), re-expressed: REGION,
 * STATUS, SUBJECT (the event's subject, i.e. the resource name), TENANT and RESOURCE merged as
 * shared nodes, the ACTION merged on four properties together with its APPLIED_ON edge, then
 * the remaining edges, APPLIED_ON a second time included. No constraint or index exists, so
 * every MERGE of a node starts from a scan of its label.
 */
const MERGES = `MERGE (region:REGION {name: $p.region})
MERGE (status:STATUS {id: $p.status})
MERGE (subject:SUBJECT {id: $p.subject})
MERGE (tenant:TENANT {tenantId: $p.tenant, domainId: $p.domain})
MERGE (resource:RESOURCE {id: $p.resourceId})
MERGE (action:ACTION {id: $p.id, timestamp: $p.timestamp, source: $p.source, type: $p.type})-[:APPLIED_ON]->(resource)
MERGE (tenant)-[:LOCATED_AT]->(region)
MERGE (resource)-[:MEMBER_OF]->(tenant)
MERGE (action)-[:APPLIED_ON]->(resource)
MERGE (action)-[:WITH_STATUS]->(status)
MERGE (action)-[:PERFORMED_BY]->(subject)`;

/** One event, its values as top-level parameters as the Go sink passed them. */
export const ORIGINAL_EVENT_QUERY = MERGES.replaceAll("$p.", "$");

/** The same MERGEs over a list: only used to grow a baseline graph quickly between measurements. */
export const ORIGINAL_BULK_QUERY = `UNWIND $rows AS p\n${MERGES.replaceAll("$p.", "p.")}`;

/**
 * Indexes that exist only while the baseline graph is grown in bulk, so growing it is not
 * itself quadratic; they are dropped before the original's pattern is measured.
 */
export const GROWTH_INDEXES = [
  ["REGION", "name"],
  ["STATUS", "id"],
  ["SUBJECT", "id"],
  ["TENANT", "tenantId"],
  ["RESOURCE", "id"],
  ["ACTION", "id"],
].map(([label = "", property = ""]) => ({
  create: `CREATE INDEX bench_growth_${label.toLowerCase()} IF NOT EXISTS FOR (n:${label}) ON (n.${property})`,
  drop: `DROP INDEX bench_growth_${label.toLowerCase()} IF EXISTS`,
}));

export type OriginalParams = Readonly<Record<string, unknown>>;

/** What the Go sink took from the CloudEvent: extensions, id, time, source, type, subject. */
export function originalParams(event: BenchEvent): OriginalParams {
  const extension = (name: string) => {
    const value: unknown = event[name];
    return typeof value === "string" ? value : null;
  };
  return {
    region: extension("region"),
    tenant: extension("tenant"),
    domain: extension("domain"),
    resourceId: extension("resourceid"),
    status: extension("status"),
    id: event.id,
    // Go's event.Time() is a time.Time, which the Go driver stores as a DateTime.
    timestamp: neo4j.types.DateTime.fromStandardDate(new Date(event.time ?? 0)),
    source: event.source,
    type: event.type,
    // Go's event.Subject() is "" when the event has none.
    subject: event.subject ?? "",
  };
}

/** One event the original's way: its own session and its own write transaction. */
export async function writeLikeOriginal(driver: Driver, params: OriginalParams): Promise<void> {
  const session = driver.session({ defaultAccessMode: neo4j.session.WRITE });
  try {
    await session.executeWrite((tx) => tx.run(ORIGINAL_EVENT_QUERY, params));
  } finally {
    await session.close();
  }
}
