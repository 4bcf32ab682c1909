import type { RawCtsTrace } from "@cts/shared";
import { ctsError, gatewayError, json, type Reply } from "./http-util.js";
import type { RouteRequest, SimContext } from "./iam-routes.js";
import { authenticate, mayAccessProject } from "./request-auth.js";
import type { StoredTrace, TraceStore } from "./trace-store.js";

/** One project's traces. */
export interface ProjectSpace {
  readonly identity: SimContext["identity"];
  readonly store: TraceStore;
  readonly render: (trace: StoredTrace) => RawCtsTrace;
}

interface CtsContext extends SimContext {
  readonly projects: ReadonlyMap<string, ProjectSpace>;
  readonly trackers: readonly string[];
  readonly retentionMs: number;
  /** Told about every page served, for `servedTraceIds`. */
  readonly onServed: (traces: readonly StoredTrace[]) => void;
}

type ApiVersion = "v1.0" | "v2.0" | "v3";

/** Query parameters that filter on a trace field (docs/otc-api-notes.md section 2). */
const FIELD_FILTERS = [
  "service_type",
  "resource_id",
  "resource_name",
  "resource_type",
  "trace_name",
  "trace_rating",
] as const;

const queryFailed = (detail: string) => ctsError(400, "CTS.0300", `Query failed. ${detail}`);

function integer(value: string | null, fallback: number): number | undefined {
  if (value === null || value === "") return fallback;
  return /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

function userName(raw: RawCtsTrace): unknown {
  const user = raw["user"];
  return typeof user === "object" && user !== null
    ? (user as Record<string, unknown>)["name"]
    : undefined;
}

/** v1 sends `user` as JSON text (CTS-DOC-OLD); v2 and v3 as an object. */
function forVersion(raw: RawCtsTrace, version: ApiVersion): RawCtsTrace {
  if (version !== "v1.0" || typeof raw["user"] !== "object" || raw["user"] === null) return raw;
  return { ...raw, user: JSON.stringify(raw["user"]) };
}

/**
 * `GET /v3/{project_id}/traces` and the v1/v2 `/{tracker}/trace` paths: exclusive `from`/`to`
 * on `time` (defaults: the last hour), the 7-day retention, newest first, `limit` 1-200
 * (default 10 in v3, 50 in v1/v2 as the old docs say), `next` continuing after the given trace,
 * `marker` null on the last page, `trace_id` overriding every other criterion.
 */
function listTraces(
  request: RouteRequest,
  context: CtsContext & ProjectSpace,
  target: { version: ApiVersion; tracker: string | null },
): Reply {
  const { query } = request;
  const now = context.clock.now();
  const tracker = target.tracker ?? query.get("tracker_name") ?? "system";
  const traceType = query.get("trace_type");
  if (target.version === "v3" && traceType !== null && traceType !== "system") {
    return queryFailed("trace_type must be system.");
  }
  if (!context.trackers.includes(tracker)) {
    return ctsError(404, "CTS.0214", `The tracker ${tracker} does not exist.`);
  }
  const limit = integer(query.get("limit"), target.version === "v3" ? 10 : 50);
  if (limit === undefined || limit < 1 || limit > 200) {
    return queryFailed("limit must be an integer from 1 to 200.");
  }
  const to = integer(query.get("to"), now);
  const from = integer(query.get("from"), now - 60 * 60 * 1000);
  if (from === undefined || to === undefined) {
    return queryFailed("from and to must be UTC timestamps in milliseconds.");
  }
  const oldest = now - context.retentionMs;
  if (from < oldest)
    return queryFailed("Only traces of the last 7 days can be queried; from is earlier.");

  const rendered = new Map<string, RawCtsTrace>();
  const render = (trace: StoredTrace) => {
    let raw = rendered.get(trace.id);
    if (raw === undefined) {
      raw = context.render(trace);
      rendered.set(trace.id, raw);
    }
    return raw;
  };
  let page: readonly StoredTrace[];
  let more = false;
  const traceId = query.get("trace_id");
  if (traceId !== null && traceId !== "") {
    const trace = context.store.get(traceId);
    page = trace !== undefined && trace.recordTime <= now && trace.time >= oldest ? [trace] : [];
  } else {
    const filters: [string, string][] = [];
    for (const name of FIELD_FILTERS) {
      const value = query.get(name);
      if (value !== null && value !== "") filters.push([name, value]);
    }
    const status = query.get("trace_status"); // the old v2 name of trace_rating
    if (status !== null && status !== "") filters.push(["trace_rating", status]);
    const user = query.get("user");
    const matches = (trace: StoredTrace) => {
      if (filters.length === 0 && (user === null || user === "")) return true;
      const raw = render(trace);
      if (user !== null && user !== "" && userName(raw) !== user) return false;
      return filters.every(([name, value]) => raw[name] === value);
    };
    const marker = query.get("next") ?? undefined;
    const result = context.store.page({
      from,
      to,
      limit,
      marker: marker === "" ? undefined : marker,
      now,
      oldest,
      matches,
    });
    if (!result.ok) return queryFailed("The marker given as next is not a trace of this tracker.");
    page = result.traces;
    more = result.more;
  }
  context.onServed(page);
  const last = page.at(-1);
  return json(200, {
    traces: page.map((trace) => forVersion(render(trace), target.version)),
    meta_data: { count: page.length, marker: more && last !== undefined ? last.id : null },
  });
}

function trackers(context: CtsContext & ProjectSpace, name: string | null): Reply {
  const list = context.trackers
    .filter((tracker) => name === null || tracker === name)
    .map((tracker) => ({
      id: `${context.identity.projectId.slice(0, 8)}-${tracker}`,
      tracker_name: tracker,
      tracker_type: tracker === "system" ? "system" : "data",
      status: "enabled",
      domain_id: context.identity.domainId,
      project_id: context.identity.projectId,
      obs_info: { bucket_name: "", file_prefix_name: "" },
    }));
  return json(200, { trackers: list });
}

/** CTS's routes; `undefined` when the path is not CTS's. */
export function routeCts(request: RouteRequest, context: CtsContext): Reply | undefined {
  const v3 = /^\/v3\/([^/]+)\/(traces|trackers)\/?$/.exec(request.path);
  const legacy = /^\/(v1\.0|v2\.0)\/([^/]+)\/([^/]+)\/trace\/?$/.exec(request.path);
  if (v3 === null && legacy === null) return undefined;
  if (request.method !== "GET") return ctsError(405, "CTS.0300", "Only GET is supported here.");
  const projectId = decodeURIComponent(v3?.[1] ?? legacy?.[2] ?? "");

  const auth = authenticate(request, context);
  if (!auth.ok) return auth.reply;
  const space = context.projects.get(projectId);
  if (space === undefined || !mayAccessProject(auth.principal, projectId, space.identity)) {
    return gatewayError(403, "APIG.0302", "The IAM user is not authorized to access this project.");
  }
  const scoped = { ...context, ...space };
  if (v3 !== null) {
    return v3[2] === "trackers"
      ? trackers(scoped, request.query.get("tracker_name"))
      : listTraces(request, scoped, { version: "v3", tracker: null });
  }
  const [, version, , tracker] = legacy ?? [];
  return listTraces(request, scoped, {
    version: version as ApiVersion,
    tracker: decodeURIComponent(tracker ?? "system"),
  });
}
