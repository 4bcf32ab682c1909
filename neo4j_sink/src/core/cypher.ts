import { ACTION_PROPERTIES, type WriteBatch } from "./write-batch.js";

/** A Cypher statement and its parameters, ready for `tx.run(text, parameters)`. */
export interface Statement {
  readonly text: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** The graph's labels and their unique keys (docs/graph-model.md section 2). */
export const NODE_KEYS = {
  Action: "id",
  User: "id",
  Domain: "id",
  Resource: "key",
  Project: "id",
  Region: "id",
  IpAddress: "address",
} as const;

/**
 * Secondary indexes: rating, time and the trace name for the analyst queries and detection rules,
 * names for finding things.
 */
const PROPERTY_INDEXES = [
  { name: "action_rating", label: "Action", property: "rating" },
  { name: "action_time", label: "Action", property: "time" },
  { name: "action_name", label: "Action", property: "name" },
  { name: "resource_id", label: "Resource", property: "id" },
  { name: "resource_name", label: "Resource", property: "name" },
  { name: "user_name", label: "User", property: "name" },
] as const;

/**
 * Idempotent schema: one uniqueness constraint per label key (which also gives MERGE its index
 * seek) and the secondary indexes. Each statement runs in its own transaction; schema and data
 * writes do not mix.
 */
export const SCHEMA_STATEMENTS: readonly string[] = [
  ...Object.entries(NODE_KEYS).map(
    ([label, key]) =>
      `CREATE CONSTRAINT ${label.toLowerCase()}_${key} IF NOT EXISTS ` +
      `FOR (n:${label}) REQUIRE n.${key} IS UNIQUE`,
  ),
  ...PROPERTY_INDEXES.map(
    (index) =>
      `CREATE INDEX ${index.name} IF NOT EXISTS FOR (n:${index.label}) ON (n.${index.property})`,
  ),
];

// Why `row.ipAddress` and not `row.sourceIp` for the IpAddress lookup: after
// `SET a.sourceIp = row.sourceIp` the planner treats a lookup by `row.sourceIp` as a read of
// `a.sourceIp` and adds an Eager. The row carries the address under both names.

/**
 * The write statements, run in this order inside one transaction: shared nodes first, actions
 * last; the action statement MERGEs its neighbours by key (an index seek each) and the
 * relationships from the new, low-degree Action node. A statement never MATCHes a label
 * by a property it SETs on another node earlier (the planner would have to add an Eager, as a
 * node may carry both labels); write-plan.test.ts checks the plans. Every statement is one UNWIND over
 * a list parameter, so its text, and with it the cached plan, never changes.
 */
export const WRITE_QUERIES = {
  places: `UNWIND $rows AS row
MERGE (p:Project {id: row.projectId})
MERGE (r:Region {id: row.regionId})
MERGE (p)-[:LOCATED_AT]->(r)`,
  domains: `UNWIND $rows AS row
MERGE (d:Domain {id: row.id})
SET d.name = coalesce(row.name, d.name)`,
  users: `UNWIND $rows AS row
MERGE (u:User {id: row.id})
SET u.name = coalesce(row.name, u.name)
WITH u, row
OPTIONAL MATCH (d:Domain {id: row.domainId})
FOREACH (domain IN CASE WHEN d IS NULL THEN [] ELSE [d] END | MERGE (u)-[:BELONGS_TO]->(domain))`,
  resources: `UNWIND $rows AS row
MERGE (r:Resource {key: row.key})
SET r.id = coalesce(row.id, r.id), r.name = coalesce(row.name, r.name),
    r.type = coalesce(row.type, r.type), r.service = coalesce(row.service, r.service)`,
  // Its own statement: with the Resource properties SET above, or inside the action statement,
  // MATCHing the Project here would need an Eager.
  memberships: `UNWIND $rows AS row
MATCH (r:Resource {key: row.key})
MATCH (p:Project {id: row.projectId})
MERGE (r)-[:MEMBER_OF]->(p)`,
  ips: `UNWIND $rows AS address
MERGE (:IpAddress {address: address})`,
  // MERGE, not MATCH, on the linked nodes: the statements above write them only when this
  // process has not written them recently (recent-rows.ts), so the action statement must never
  // depend on them having run; for a node that exists, MERGE is the same index seek.
  actions: `UNWIND $rows AS row
MERGE (a:Action {id: row.id})
SET ${ACTION_PROPERTIES.map((name) => `a.${name} = row.${name}`).join(", ")},
    a.time = datetime(row.time), a.recordTime = datetime(row.recordTime)
WITH a, row
MERGE (p:Project {id: row.projectId})
MERGE (a)-[:IN_PROJECT]->(p)
FOREACH (id IN CASE WHEN row.userId IS NULL THEN [] ELSE [row.userId] END |
  MERGE (u:User {id: id}) MERGE (a)-[:PERFORMED_BY]->(u))
FOREACH (key IN CASE WHEN row.resourceKey IS NULL THEN [] ELSE [row.resourceKey] END |
  MERGE (r:Resource {key: key}) MERGE (a)-[:APPLIED_ON]->(r))
FOREACH (address IN CASE WHEN row.ipAddress IS NULL THEN [] ELSE [row.ipAddress] END |
  MERGE (i:IpAddress {address: address}) MERGE (a)-[:FROM_IP]->(i))`,
} as const;

/** The statements that write `batch`, in order; lists that are empty are left out. */
export function writeStatements(batch: WriteBatch): Statement[] {
  const order = [
    "places",
    "domains",
    "users",
    "resources",
    "memberships",
    "ips",
    "actions",
  ] as const;
  return order
    .filter((name) => batch[name].length > 0)
    .map((name) => ({ text: WRITE_QUERIES[name], parameters: { rows: batch[name] } }));
}
