import {
  AppError,
  CtsTrace,
  CtsTracePage,
  ErrorCode,
  formatQueryString,
  type Logger,
  type RawCtsTrace,
} from "@cts/shared";
import type { z } from "zod";
import type { InvalidListing, ListedTrace } from "../core/ports.js";
import { clampToRetention, type TimeWindow } from "../core/window.js";
import { CTS_FAILURES, type Authenticator, type OtcHttp } from "./otc-http.js";

/** A trace CTS returned that fails validation: logged, counted and handed to `onInvalid`. */
export interface InvalidTrace {
  readonly traceId: string | undefined;
  readonly reason: string;
}

/** The maximum page size CTS v3 allows. */
const CTS_PAGE_LIMIT = 200;

interface TraceListerDeps {
  readonly http: OtcHttp;
  readonly auth: Authenticator;
  /** `<base>/v3/<project_id>` */
  readonly endpoint: string;
  readonly logger: Logger;
  readonly onInvalidTrace: (invalid: InvalidTrace) => void;
  readonly pageSize?: number;
  /** The clock each request's `from` is clamped to retention with; Date.now by default. */
  readonly now?: () => number;
}

/** The trace id (if any) and the first problems, by field; never the offending values. */
function describeInvalid(raw: RawCtsTrace, issues: readonly z.core.$ZodIssue[]): InvalidTrace {
  const id = raw["trace_id"];
  const reason = issues
    .slice(0, 3)
    .map((issue) => {
      const field = issue.path.map(String).join(".");
      return `${field === "" ? "trace" : field}: ${issue.message}`;
    })
    .join("; ");
  return { traceId: typeof id === "string" ? id.slice(0, 256) : undefined, reason };
}

function isRecord(value: unknown): value is RawCtsTrace {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The trace ids of a page, as far as its entries have any. */
function idsOf(traces: readonly unknown[]): Set<string> {
  const ids = new Set<string>();
  for (const raw of traces) {
    if (isRecord(raw) && typeof raw["trace_id"] === "string") ids.add(raw["trace_id"]);
  }
  return ids;
}

/** The newest and oldest `time` and record time of one page. */
interface TimeSpan {
  readonly newestTime: number;
  readonly oldestTime: number;
  readonly newestRecord: number;
  readonly oldestRecord: number;
}

function timeSpan(page: readonly ListedTrace[]): TimeSpan | undefined {
  if (page.length === 0) return undefined;
  const times = page.map(({ trace }) => trace.time);
  const records = page.map(({ trace }) => trace.record_time ?? trace.time);
  return {
    newestTime: Math.max(...times),
    oldestTime: Math.min(...times),
    newestRecord: Math.max(...records),
    oldestRecord: Math.min(...records),
  };
}

/**
 * Whether a page continues back in time from the previous one. CTS documents `next` as "earlier
 * than the marker" without saying whether by `time` or by record time, so a page is accepted
 * when either ordering holds; only a page newer by both measures is refused.
 */
function goesBack(page: TimeSpan, previous: TimeSpan): boolean {
  return page.newestTime <= previous.oldestTime || page.newestRecord <= previous.oldestRecord;
}

/** A listing that cannot be trusted to be complete: the cycle fails, the checkpoint stays. */
function brokenPaging(what: string, page: number, endpoint: string): AppError {
  return new AppError(
    ErrorCode.CTS_API_REJECTED,
    `CTS trace list from ${endpoint} ${what} (page ${page}); the listing is incomplete, so the cycle fails and the checkpoint stays`,
    { details: { page } },
  );
}

/**
 * Requests the page after `next` and returns its text, to be awaited when its page is reached;
 * undefined when the rest of the window has left retention.
 */
function requestPageText(
  listing: {
    readonly deps: TraceListerDeps;
    readonly window: TimeWindow;
    readonly tracker: string;
    readonly signal: AbortSignal;
  },
  next: string | undefined,
): Promise<string> | undefined {
  const { deps, window, tracker, signal } = listing;
  const now = deps.now ?? Date.now;
  const from = clampToRetention(window.from, now());
  if (from >= window.to - 1) {
    // The rest of the window has left retention while it was read: CTS no longer has it.
    deps.logger.warn(
      { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() },
      "the rest of this window is older than CTS retention (7 days); its traces are gone",
    );
    return undefined;
  }
  const query: [string, string][] = [
    ["trace_type", "system"],
    ["tracker_name", tracker],
    ["limit", String(deps.pageSize ?? CTS_PAGE_LIMIT)],
    ["from", String(from)],
    ["to", String(window.to)],
  ];
  if (next !== undefined) query.push(["next", next]);
  const url = new URL(`${deps.endpoint}/traces`);
  url.search = formatQueryString(query);
  const text = deps.http
    .send(
      { method: "GET", url, what: "CTS trace list", signal },
      {
        auth: deps.auth,
        failures: CTS_FAILURES,
        hint: `check CTS_TRACKER ("${tracker}") and the project's CTS permissions`,
      },
    )
    .then((response) => response.text);
  // Awaited when its page is reached; until then a failure must not count as unhandled.
  text.catch(() => undefined);
  return text;
}

/** One page's text as a trace page; anything else fails the listing. */
function parsePage(text: string, page: number, endpoint: string): CtsTracePage {
  try {
    return CtsTracePage.parse(JSON.parse(text));
  } catch {
    throw new AppError(
      ErrorCode.CTS_API_REJECTED,
      `CTS trace list page ${page} from ${endpoint} is not a trace page (expected {"traces": [...], "meta_data": {...}})`,
    );
  }
}

/** The valid traces of a page; each invalid entry is logged, counted and handed to `onInvalid`. */
function validTraces(
  traces: readonly unknown[],
  deps: Pick<TraceListerDeps, "logger" | "onInvalidTrace">,
  onInvalid: ((invalid: InvalidListing) => void) | undefined,
): ListedTrace[] {
  const listed: ListedTrace[] = [];
  for (const raw of traces) {
    const invalid = (reason: InvalidTrace) => {
      deps.logger.warn(reason, "CTS listed an entry that is not a valid CTS trace");
      deps.onInvalidTrace(reason);
      onInvalid?.({ ...reason, raw });
    };
    if (!isRecord(raw)) {
      invalid({ traceId: undefined, reason: "not a JSON object" });
      continue;
    }
    const result = CtsTrace.safeParse(raw);
    if (result.success) listed.push({ trace: result.data, raw });
    else invalid(describeInvalid(raw, result.error.issues));
  }
  return listed;
}

/**
 * Lists every trace of a window, page by page (`GET /v3/{project_id}/traces`, `limit=200`,
 * `next` = the previous page's `meta_data.marker`), until the marker is null or a page comes
 * back empty. A marker that repeats, the same page again under a new marker, or a page newer
 * than the one before (a service that pages in circles or forward without end) fails the
 * listing: ending it there would pass off an incomplete window as complete. Each request clamps
 * `from` to what retention still holds, so a window near the seven-day edge does not fail on
 * every later page.
 *
 * The next page is requested as soon as a page's marker is known, before its traces are
 * yielded, so CTS's answer time overlaps the delivery of the page before instead of stalling
 * it (the exporter was otherwise idle about a quarter of a 200,000-trace cycle, waiting for
 * pages). The generator holds at most one parsed page and the text of the next, so memory stays
 * flat however many traces a window has; a next page that fails fails the listing when it is
 * reached, after the page before it was yielded, as without the read-ahead.
 */
export async function* listTraces(
  deps: TraceListerDeps,
  window: TimeWindow,
  options: {
    tracker: string;
    signal?: AbortSignal | undefined;
    onInvalid?: ((invalid: InvalidListing) => void) | undefined;
  },
): AsyncGenerator<ListedTrace, void, undefined> {
  const seenMarkers = new Set<string>();
  let previousIds = new Set<string>();
  let floor: TimeSpan | undefined;
  // Ends a request still running for a page nobody will read (the consumer stopped early).
  const readAhead = new AbortController();
  const signal =
    options.signal === undefined
      ? readAhead.signal
      : AbortSignal.any([options.signal, readAhead.signal]);

  const requestPage = (next: string | undefined) =>
    requestPageText({ deps, window, tracker: options.tracker, signal }, next);

  let pending = requestPage(undefined);
  try {
    for (let page = 1; pending !== undefined; page++) {
      const text = await pending;
      pending = undefined;
      const parsed = parsePage(text, page, deps.endpoint);
      const traces = parsed.traces ?? [];
      const ids = idsOf(traces);
      if (ids.size > 0 && [...ids].every((id) => previousIds.has(id))) {
        // A new marker over the same page would otherwise be followed back to back, without end.
        throw brokenPaging("sent the previous page again under a new marker", page, deps.endpoint);
      }
      previousIds = ids;
      const listed = validTraces(traces, deps, options.onInvalid);
      const span = timeSpan(listed);
      if (floor !== undefined && span !== undefined && !goesBack(span, floor)) {
        // `next` asks for older traces; a page newer than the last one means the service pages
        // forward without end (seen: a fake CTS minting new traces and markers forever).
        throw brokenPaging(
          "answered a paging marker with newer traces instead of older ones",
          page,
          deps.endpoint,
        );
      }
      floor = span ?? floor;
      const marker = parsed.meta_data?.marker ?? undefined;
      const more = marker !== undefined && marker !== "" && traces.length > 0;
      const repeated = more && seenMarkers.has(marker);
      if (more && !repeated) {
        seenMarkers.add(marker);
        pending = requestPage(marker);
      }
      yield* listed;
      if (repeated) throw brokenPaging("repeated a paging marker", page, deps.endpoint);
    }
  } finally {
    readAhead.abort();
  }
}
