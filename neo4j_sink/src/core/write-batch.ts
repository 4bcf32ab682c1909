import type { GraphRow } from "./graph-rows.js";

/** The parameters of one batch write: each node once, sorted by key (see buildWriteBatch). */
export interface WriteBatch {
  readonly places: readonly { readonly projectId: string; readonly regionId: string }[];
  readonly domains: readonly { readonly id: string; readonly name: string | null }[];
  readonly users: readonly {
    readonly id: string;
    readonly name: string | null;
    readonly domainId: string | null;
  }[];
  readonly resources: readonly {
    readonly key: string;
    readonly id: string | null;
    readonly name: string | null;
    readonly type: string | null;
    readonly service: string | null;
  }[];
  /** Which project each resource belongs to. */
  readonly memberships: readonly { readonly key: string; readonly projectId: string }[];
  readonly ips: readonly string[];
  readonly actions: readonly ActionParams[];
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

/**
 * Groups the rows of one transaction: actions deduplicated by id (a redelivered event inside the
 * same batch must not be written twice), every shared node (project, region, user, domain,
 * resource, IP) once, and each list sorted by key so concurrent writers, should there ever be
 * several sinks, lock nodes in the same order instead of deadlocking.
 */
export function buildWriteBatch(rows: readonly GraphRow[]): WriteBatch {
  const actions = new Map<string, ActionParams>();
  const places = new Map<string, WriteBatch["places"][number]>();
  const domains = new Map<string, WriteBatch["domains"][number]>();
  const users = new Map<string, WriteBatch["users"][number]>();
  const resources = new Map<string, WriteBatch["resources"][number]>();
  const memberships = new Map<string, WriteBatch["memberships"][number]>();
  const ips = new Set<string>();
  for (const row of rows) {
    if (actions.has(row.id)) continue;
    actions.set(row.id, actionParams(row));
    places.set(`${row.projectId}\u0000${row.regionId}`, {
      projectId: row.projectId,
      regionId: row.regionId,
    });
    if (row.userId !== null) {
      mergeInto(users, row.userId, { id: row.userId, name: row.userName, domainId: row.domainId });
      if (row.domainId !== null) {
        mergeInto(domains, row.domainId, { id: row.domainId, name: row.domainName });
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
      memberships.set(`${row.resourceKey}\u0000${row.projectId}`, {
        key: row.resourceKey,
        projectId: row.projectId,
      });
    }
    if (row.sourceIp !== null) ips.add(row.sourceIp);
  }
  return {
    places: [...places.values()].sort(byKey((p) => `${p.projectId}\u0000${p.regionId}`)),
    domains: [...domains.values()].sort(byKey((d) => d.id)),
    users: [...users.values()].sort(byKey((u) => u.id)),
    resources: [...resources.values()].sort(byKey((r) => r.key)),
    memberships: [...memberships.values()].sort(byKey((m) => `${m.key}\u0000${m.projectId}`)),
    ips: [...ips].sort(),
    actions: [...actions.values()].sort(byKey((a) => a.id)),
  };
}
