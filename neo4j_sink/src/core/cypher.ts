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

/**
 * The Action properties that are the event's content. The trace context (`traceparent`,
 * `tracestate`) is not: each delivery attempt may carry its own, and an identical redelivery
 * must not count as a conflict.
 */
export const CONTENT_PROPERTIES = ACTION_PROPERTIES.filter(
  (name) => name !== "traceparent" && name !== "tracestate",
);

/** `stored` and `given` are equal, or both absent (Cypher's `=` is null for a null side). */
const sameValue = (stored: string, given: string) =>
  `coalesce(${stored} = ${given}, ${stored} IS NULL AND ${given} IS NULL)`;

/** The one neighbour key an Action links to through `pattern`, as a list ([] = none). */
const sameLink = (pattern: string, key: string, given: string) =>
  `[${pattern} | n.${key}] = CASE WHEN ${given} IS NULL THEN [] ELSE [${given}] END`;

/**
 * Reads before writing, in the write transaction: which of the batch's Action ids are stored
 * already (`ids` is a list of ids), and, for those, whether the stored Action has the same
 * content as the redelivered one (`rows` are ActionParams): every property and every link.
 * A stored Action is never rewritten (first write wins); these answers let the writer skip an
 * identical redelivery and report a conflicting one.
 */
export const READ_QUERIES = {
  storedActions: `UNWIND $ids AS id
MATCH (a:Action {id: id})
RETURN a.id AS id`,
  sameActions: `UNWIND $rows AS row
MATCH (a:Action {id: row.id})
RETURN row.id AS id, ${[
    ...CONTENT_PROPERTIES.map((name) => sameValue(`a.${name}`, `row.${name}`)),
    "a.time = datetime(row.time)",
    sameValue("a.recordTime", "datetime(row.recordTime)"),
    "[(a)-[:IN_PROJECT]->(n:Project) | n.id] = [row.projectId]",
    sameLink("(a)-[:PERFORMED_BY]->(n:User)", "id", "row.userId"),
    sameLink("(a)-[:APPLIED_ON]->(n:Resource)", "key", "row.resourceKey"),
    sameLink("(a)-[:FROM_IP]->(n:IpAddress)", "address", "row.ipAddress"),
  ].join("\n  AND ")} AS same`,
} as const;

/** True when `row.<property>` is known and differs from what `node` stores. */
const changes = (node: string, property: string) =>
  `(row.${property} IS NOT NULL AND coalesce(${node}.${property} <> row.${property}, true))`;

/**
 * A FOREACH list that runs its SET only when `condition` holds. Not `WITH ... WHERE`: a
 * filter that reads a property the next clause SETs makes the planner add an Eager.
 */
const when = (condition: string) => `CASE WHEN ${condition} THEN [1] ELSE [] END`;

/**
 * One relationship per row between two nodes each MERGEd by its key (`from` and `to` are node
 * patterns such as `p:Project {id: row.projectId}`). MERGE, not MATCH, on both ends: the node
 * statements write a node only when this process has not written it recently (recent-rows.ts),
 * so no relationship may depend on them having run; for a node that exists, MERGE is the same
 * index seek and takes no write lock.
 */
const relationships = (from: string, type: string, to: string) => {
  const name = (pattern: string) => pattern.slice(0, pattern.indexOf(":"));
  return `UNWIND $rows AS row
MERGE (${from})
MERGE (${to})
MERGE (${name(from)})-[:${type}]->(${name(to)})`;
};

// Why `row.ipAddress` and not `row.sourceIp` for the IpAddress lookup: after
// `SET a.sourceIp = row.sourceIp` the planner treats a lookup by `row.sourceIp` as a read of
// `a.sourceIp` and adds an Eager. The row carries the address under both names.

/**
 * The write statements, run in this order inside one transaction: nodes first, label by label
 * in a fixed order, each list sorted by key; relationships last. Every writer (every sink
 * replica) so takes its locks in one global order. A shared node (Domain, User, Resource,
 * Project, Region) that exists and whose properties did not change is only read (MERGE finds
 * it; the conditional SET is skipped), so it takes no write lock; an Action is only ever
 * created, never rewritten (ON CREATE SET: first write wins). A statement never MATCHes a
 * label by a property it SETs on another node earlier (the planner would have to add an
 * Eager, as a node may carry both labels); write-plan.test.ts checks the plans. Every
 * statement is one UNWIND over a list parameter, so its text, and with it the cached plan,
 * never changes.
 */
export const WRITE_QUERIES = {
  projects: `UNWIND $rows AS id
MERGE (:Project {id: id})`,
  regions: `UNWIND $rows AS id
MERGE (:Region {id: id})`,
  domains: `UNWIND $rows AS row
MERGE (d:Domain {id: row.id})
FOREACH (_ IN ${when(changes("d", "name"))} | SET d.name = row.name)`,
  users: `UNWIND $rows AS row
MERGE (u:User {id: row.id})
FOREACH (_ IN ${when(changes("u", "name"))} | SET u.name = row.name)`,
  resources: `UNWIND $rows AS row
MERGE (r:Resource {key: row.key})
FOREACH (_ IN ${when(["id", "name", "type", "service"].map((name) => changes("r", name)).join(" OR "))} |
  SET r.id = coalesce(row.id, r.id), r.name = coalesce(row.name, r.name),
      r.type = coalesce(row.type, r.type), r.service = coalesce(row.service, r.service))`,
  ips: `UNWIND $rows AS address
MERGE (:IpAddress {address: address})`,
  actions: `UNWIND $rows AS row
MERGE (a:Action {id: row.id})
ON CREATE SET ${ACTION_PROPERTIES.map((name) => `a.${name} = row.${name}`).join(", ")},
    a.time = datetime(row.time), a.recordTime = datetime(row.recordTime)`,
  locations: relationships(
    "p:Project {id: row.projectId}",
    "LOCATED_AT",
    "r:Region {id: row.regionId}",
  ),
  userDomains: relationships("u:User {id: row.id}", "BELONGS_TO", "d:Domain {id: row.domainId}"),
  memberships: relationships(
    "r:Resource {key: row.key}",
    "MEMBER_OF",
    "p:Project {id: row.projectId}",
  ),
  // MERGE on the ends here too, for the reason given at relationships().
  actionLinks: `UNWIND $rows AS row
MATCH (a:Action {id: row.id})
MERGE (p:Project {id: row.projectId})
MERGE (a)-[:IN_PROJECT]->(p)
FOREACH (id IN CASE WHEN row.userId IS NULL THEN [] ELSE [row.userId] END |
  MERGE (u:User {id: id}) MERGE (a)-[:PERFORMED_BY]->(u))
FOREACH (key IN CASE WHEN row.resourceKey IS NULL THEN [] ELSE [row.resourceKey] END |
  MERGE (r:Resource {key: key}) MERGE (a)-[:APPLIED_ON]->(r))
FOREACH (address IN CASE WHEN row.ipAddress IS NULL THEN [] ELSE [row.ipAddress] END |
  MERGE (i:IpAddress {address: address}) MERGE (a)-[:FROM_IP]->(i))`,
} as const;

/** The order the write statements run in: nodes, then relationships (see WRITE_QUERIES). */
export const WRITE_ORDER = [
  "projects",
  "regions",
  "domains",
  "users",
  "resources",
  "ips",
  "actions",
  "locations",
  "userDomains",
  "memberships",
  "actionLinks",
] as const satisfies readonly (keyof typeof WRITE_QUERIES & keyof WriteBatch)[];

/** The statements that write `batch`, in order; lists that are empty are left out. */
export function writeStatements(batch: WriteBatch): Statement[] {
  return WRITE_ORDER.filter((name) => batch[name].length > 0).map((name) => ({
    text: WRITE_QUERIES[name],
    parameters: { rows: batch[name] },
  }));
}
