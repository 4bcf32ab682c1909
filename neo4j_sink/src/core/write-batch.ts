import type { GraphRow } from "./graph-rows.js";

/**
 * The parameters of one batch write: each node and relationship once, every list sorted by key.
 * The statements run nodes first (label by label, in a fixed order) and relationships last, so
 * every transaction of every sink replica takes its locks in one global order (see
 * buildWriteBatch).
 */
export interface WriteBatch {
  readonly projects: readonly string[];
  readonly regions: readonly string[];
  readonly domains: readonly { readonly id: string; readonly name: string | null }[];
  readonly users: readonly { readonly id: string; readonly name: string | null }[];
  readonly resources: readonly {
    readonly key: string;
    readonly id: string | null;
    readonly name: string | null;
    readonly type: string | null;
    readonly service: string | null;
  }[];
  readonly ips: readonly string[];
  readonly actions: readonly ActionParams[];
  /** Project LOCATED_AT Region. */
  readonly locations: readonly { readonly projectId: string; readonly regionId: string }[];
  /** User BELONGS_TO Domain. */
  readonly userDomains: readonly { readonly id: string; readonly domainId: string }[];
  /** Resource MEMBER_OF Project. */
  readonly memberships: readonly { readonly key: string; readonly projectId: string }[];
  /** An Action's links to its project, user, resource and IP. */
  readonly actionLinks: readonly ActionLinks[];
}

/**
 * The Action properties every write sets straight from the row (the MERGE is on `id`; `time`
 * and `recordTime` are converted to DateTime by the query). The one list of them: the batch
 * parameters and the Cypher SET clause are both derived from it.
 */
export const ACTION_PROPERTIES = [
  "name",
  "traceType",
  "rating",
  "code",
  "service",
  "resourceType",
  "sourceIp",
  "apiVersion",
  "requestId",
  "message",
  "request",
  "response",
  "truncated",
  "eventType",
  "eventSource",
  "traceparent",
  "tracestate",
] as const;

/** The keys an Action links to; null = no such neighbour. */
export type ActionLinks = Pick<
  ActionParams,
  "id" | "projectId" | "userId" | "resourceKey" | "ipAddress"
>;

/** An Action's properties plus the keys of the nodes it links to. */
type ActionParams = { readonly ipAddress: string | null } & Pick<
  GraphRow,
  | (typeof ACTION_PROPERTIES)[number]
  | "id"
  | "time"
  | "recordTime"
  | "userId"
  | "resourceKey"
  | "projectId"
>;

function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const left = key(a);
    const right = key(b);
    return left < right ? -1 : left > right ? 1 : 0;
  };
}

/** Keeps the first non-null value per field, so a sparse duplicate never erases a name. */
function mergeInto<T extends object>(map: Map<string, T>, key: string, value: T): void {
  const seen = map.get(key);
  if (seen === undefined) {
    map.set(key, value);
    return;
  }
  const merged = { ...seen } as Record<string, unknown>;
  for (const [name, field] of Object.entries(value)) merged[name] ??= field;
  map.set(key, merged as T);
}

function actionParams(row: GraphRow): ActionParams {
  const properties = Object.fromEntries(ACTION_PROPERTIES.map((name) => [name, row[name]])) as Pick<
    GraphRow,
    (typeof ACTION_PROPERTIES)[number]
  >;
  return {
    ...properties,
    id: row.id,
    time: row.time,
    recordTime: row.recordTime,
    userId: row.userId,
    resourceKey: row.resourceKey,
    projectId: row.projectId,
    ipAddress: row.sourceIp,
  };
}

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/**
 * The rows of one transaction, one per event id: the first copy of an id is kept; a later copy
 * whose Action would differ is a conflict (same id, other content), reported by id, never
 * written.
 */
export function dedupeRows(rows: readonly GraphRow[]): {
  readonly rows: readonly GraphRow[];
  readonly conflicts: readonly string[];
} {
  const first = new Map<string, { row: GraphRow; content: string }>();
  const conflicts: string[] = [];
  for (const row of rows) {
    // The trace context is per delivery, not content (see CONTENT_PROPERTIES in cypher.ts).
    const content = JSON.stringify({ ...actionParams(row), traceparent: null, tracestate: null });
    const seen = first.get(row.id);
    if (seen === undefined) first.set(row.id, { row, content });
    else if (seen.content !== content) conflicts.push(row.id);
  }
  return { rows: [...first.values()].map((entry) => entry.row), conflicts };
}

/** The Action parameters of `rows`, one per id (first copy), sorted by id. */
export function actionsOf(rows: readonly GraphRow[]): ActionParams[] {
  return dedupeRows(rows)
    .rows.map(actionParams)
    .sort(byKey((a) => a.id));
}

/**
 * Groups the rows of one transaction: actions deduplicated by id (a redelivered event inside the
 * same batch must not be written twice; the first copy wins), every shared node (project,
 * region, user, domain, resource, IP) and relationship once, and each list sorted by key.
 * Sorted lists, run nodes before relationships, make concurrent writers (several sink
 * replicas on one Neo4j) lock nodes in the same order, which keeps deadlocks rare.
 */
export function buildWriteBatch(rows: readonly GraphRow[]): WriteBatch {
  const actions = new Map<string, ActionParams>();
  const projects = new Set<string>();
  const regions = new Set<string>();
  const locations = new Map<string, WriteBatch["locations"][number]>();
  const domains = new Map<string, WriteBatch["domains"][number]>();
  const users = new Map<string, WriteBatch["users"][number]>();
  const userDomains = new Map<string, WriteBatch["userDomains"][number]>();
  const resources = new Map<string, WriteBatch["resources"][number]>();
  const memberships = new Map<string, WriteBatch["memberships"][number]>();
  const ips = new Set<string>();
  for (const row of rows) {
    if (actions.has(row.id)) continue;
    actions.set(row.id, actionParams(row));
    projects.add(row.projectId);
    regions.add(row.regionId);
    locations.set(pairKey(row.projectId, row.regionId), {
      projectId: row.projectId,
      regionId: row.regionId,
    });
    if (row.userId !== null) {
      mergeInto(users, row.userId, { id: row.userId, name: row.userName });
      if (row.domainId !== null) {
        mergeInto(domains, row.domainId, { id: row.domainId, name: row.domainName });
        userDomains.set(pairKey(row.userId, row.domainId), {
          id: row.userId,
          domainId: row.domainId,
        });
      }
    }
    if (row.resourceKey !== null) {
      mergeInto(resources, row.resourceKey, {
        key: row.resourceKey,
        id: row.resourceId,
        name: row.resourceName,
        type: row.resourceType,
        service: row.service,
      });
      memberships.set(pairKey(row.resourceKey, row.projectId), {
        key: row.resourceKey,
        projectId: row.projectId,
      });
    }
    if (row.sourceIp !== null) ips.add(row.sourceIp);
  }
  const sortedActions = [...actions.values()].sort(byKey((a) => a.id));
  return {
    projects: [...projects].sort(),
    regions: [...regions].sort(),
    domains: [...domains.values()].sort(byKey((d) => d.id)),
    users: [...users.values()].sort(byKey((u) => u.id)),
    resources: [...resources.values()].sort(byKey((r) => r.key)),
    ips: [...ips].sort(),
    actions: sortedActions,
    locations: [...locations.values()].sort(byKey((l) => pairKey(l.projectId, l.regionId))),
    userDomains: [...userDomains.values()].sort(byKey((u) => pairKey(u.id, u.domainId))),
    memberships: [...memberships.values()].sort(byKey((m) => pairKey(m.key, m.projectId))),
    actionLinks: sortedActions.map((a) => ({
      id: a.id,
      projectId: a.projectId,
      userId: a.userId,
      resourceKey: a.resourceKey,
      ipAddress: a.ipAddress,
    })),
  };
}

/** Rows sorted against what Neo4j already stores under their ids. */
export interface StoredComparison {
  /** Ids Neo4j does not hold yet: these are written. */
  readonly fresh: readonly GraphRow[];
  /** Ids stored with the same content: a plain redelivery, nothing to write. */
  readonly unchanged: readonly string[];
  /** Ids stored with other content: the first write stays, these are reported. */
  readonly conflicts: readonly string[];
}

/** Splits `rows` by `stored` (id -> whether the stored Action has the same content). */
export function compareWithStored(
  rows: readonly GraphRow[],
  stored: ReadonlyMap<string, boolean>,
): StoredComparison {
  const fresh: GraphRow[] = [];
  const unchanged: string[] = [];
  const conflicts: string[] = [];
  for (const row of rows) {
    const same = stored.get(row.id);
    if (same === undefined) fresh.push(row);
    else if (same) unchanged.push(row.id);
    else conflicts.push(row.id);
  }
  return { fresh, unchanged, conflicts };
}
