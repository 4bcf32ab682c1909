import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type Logger, type RawCtsTrace } from "@cts/shared";
import { systemClock, type Clock } from "./clock.js";
import { cloudsYaml } from "./clouds-yaml.js";
import { routeCts, type ProjectSpace } from "./cts-routes.js";
import { createFaultPlan, type RequestScope } from "./faults.js";
import { createTraceFactory } from "./generator/trace-factory.js";
import { ctsError, gatewayError, readBody, writeReply, type Reply } from "./http-util.js";
import { routeIam, type RouteRequest, type SimContext } from "./iam-routes.js";
import { domainUsers, identityFor, type SimIdentity } from "./identity.js";
import { hex, streamFor } from "./random.js";
import {
  DEFAULTS,
  type FaultOptions,
  type PreloadOptions,
  type SimulatorOptions,
} from "./options.js";
import { createTokenRegistry, type TokenRegistry } from "./request-auth.js";
import { createTraceStore, type StoredTrace } from "./trace-store.js";
import { createTraffic } from "./traffic.js";
import { detectionPatterns, type DetectionPatterns } from "./generator/detection-patterns.js";

/** Counters for tests and the CLI. */
interface SimulatorStats {
  readonly requests: { readonly iam: number; readonly cts: number };
  readonly faultsInjected: number;
  readonly tokensIssued: number;
  /** Trace objects served over all pages (a trace served twice counts twice). */
  readonly tracesServed: number;
  /** Traces stored (generated up to now, given, preloaded), visible or not yet. */
  readonly tracesStored: number;
}

/** One project the simulator serves. */
export interface SimProject {
  readonly id: string;
  /** `<region>_<suffix>` */
  readonly name: string;
  readonly region: string;
  /** The project's CTS v3 endpoint: `<url>/v3/<id>`. */
  readonly ctsUrl: string;
}

/** A running OTC stand-in: IAM and CTS on one loopback port. */
export interface Simulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The `auth_url` for clouds.yaml: `<url>/v3`. */
  readonly iamUrl: string;
  /** The project's CTS v3 endpoint: `<url>/v3/<projectId>`. */
  readonly ctsUrl: string;
  readonly projectId: string;
  readonly domainId: string;
  readonly region: string;
  /** Every project of the account, the primary one (the one above) first. */
  readonly projects: readonly SimProject[];
  /** The tenant: user, password, access key, secret key, project and domain names. */
  readonly credentials: SimIdentity;
  readonly clock: Clock;
  /** The detection patterns served (option `detections`): their window start and rules. */
  readonly detections: DetectionPatterns | undefined;
  /**
   * Serves these traces exactly as given (any shape, invalid ones too). Ordering and paging use
   * `trace_id` (or a generated stand-in), `time` (or now) and `record_time` (or `time`).
   */
  addTraces(traces: readonly RawCtsTrace[], projectId?: string): string[];
  /** Generates `count` traces with `time` in `(from, to)`; fast enough for 200,000. */
  preload(options: PreloadOptions): void;
  /** The ids CTS would list for `from < time < to` right now, newest first. */
  traceIdsIn(window: { readonly from: number; readonly to: number }, projectId?: string): string[];
  /** One stored trace in its v3 form, visible or not. */
  trace(id: string): RawCtsTrace | undefined;
  /** Every trace id served so far, over any API version. */
  servedTraceIds(): ReadonlySet<string>;
  /** Replaces the fault plan (undefined: no faults); counting restarts. */
  setFaults(faults: FaultOptions | undefined): void;
  /** Every token issued so far expires now; the next request with one gets 401 APIG.0307. */
  expireTokens(): void;
  /**
   * Every token value issued so far (expired ones too), so tests can check that no log line
   * carries one: a token is as good as the password until it expires.
   */
  issuedTokens(): readonly string[];
  stats(): SimulatorStats;
  /** A ready-to-paste clouds.yaml with a password cloud and an AK/SK cloud. */
  cloudsYaml(options?: { cloud?: string }): string;
  close(): Promise<void>;
}

function scopeOf(path: string): RequestScope {
  return path === "/" ||
    path === "/v3" ||
    path === "/v3/" ||
    path.startsWith("/v3/auth") ||
    path.startsWith("/v3/projects")
    ? "iam"
    : "cts";
}

/** One project of the account: its identity, its traces and the traffic that fills them. */
interface Space extends ProjectSpace {
  readonly traffic: ReturnType<typeof createTraffic>;
}

/**
 * The account's projects: the primary one, then each of `extraProjects`, every one with its
 * own generator stream, so trace ids never repeat across projects.
 */
function createSpaces(options: SimulatorOptions, identity: SimIdentity, clock: Clock): Space[] {
  const seed = options.seed ?? DEFAULTS.seed;
  const generator = options.generator ?? {};
  const identities: SimIdentity[] = [
    identity,
    ...(options.extraProjects ?? []).map((extra, index) => ({
      ...identity,
      projectId: hex(streamFor(seed, "project", index), 32),
      projectName: extra.name,
      region: extra.region ?? extra.name.split("_")[0] ?? identity.region,
    })),
  ];
  return identities.map((projectIdentity, index) => {
    const spaceSeed = index === 0 ? seed : seed * 7919 + index;
    const store = createTraceStore();
    const factory = createTraceFactory({
      seed: spaceSeed,
      identity: projectIdentity,
      users: domainUsers(seed, identity),
      lateFraction: generator.lateFraction ?? DEFAULTS.lateFraction,
      lateMinutes: generator.lateMinutes ?? DEFAULTS.lateMinutes,
      lagMs: generator.lagMs ?? DEFAULTS.lagMs,
      ...(generator.mix === undefined ? {} : { mix: generator.mix }),
    });
    const traffic = createTraffic({
      seed: spaceSeed,
      factory,
      store,
      rate: generator.rate ?? 0,
      start: clock.now(),
      retentionMs: DEFAULTS.retentionMs,
    });
    const render = (trace: StoredTrace): RawCtsTrace =>
      "raw" in trace ? trace.raw : factory.render(trace);
    return { identity: projectIdentity, store, traffic, render };
  });
}

/** The traces the primary project starts with: preloaded, given, and the detection patterns. */
function seedPrimary(
  options: SimulatorOptions,
  primary: Space,
  clock: Clock,
): DetectionPatterns | undefined {
  const { traffic, identity } = primary;
  if (options.preload !== undefined) traffic.preload(options.preload);
  if (options.traces !== undefined) traffic.add(options.traces, clock.now());
  if (options.detections === undefined) return undefined;
  const detections = detectionPatterns({
    now: clock.now(),
    identity,
    idPrefix: `${identity.projectId.slice(0, 8)}-`,
    ...(options.detections === "all" ? {} : { rules: options.detections }),
  });
  traffic.add(detections.traces, clock.now());
  return detections;
}

type FaultPlan = ReturnType<typeof createFaultPlan>;

/** What IAM's and CTS's routes see of the simulator. */
type RouteContext = SimContext & Parameters<typeof routeCts>[1];

/**
 * Plays the fault a request drew, as OTC's gateway or CTS would. True when the fault answered
 * (or dropped) the request; false when the request goes on, slowed or with its token expired.
 */
async function playFault(
  fault: ReturnType<FaultPlan["next"]>,
  exchange: { readonly request: IncomingMessage; readonly response: ServerResponse },
  plan: { readonly faults: FaultPlan; readonly tokens: TokenRegistry; readonly clock: Clock },
): Promise<boolean> {
  const { request, response } = exchange;
  const { faults, tokens, clock } = plan;
  switch (fault) {
    case "reset":
      request.socket.destroy();
      return true;
    case "slow":
      await sleep(faults.options?.slowMs ?? DEFAULTS.slowMs);
      return false;
    case "throttle":
      writeReply(response, {
        ...gatewayError(429, "APIG.0308", "The throttling threshold has been reached."),
        headers: {
          "retry-after": String(faults.options?.retryAfterSeconds ?? DEFAULTS.retryAfterSeconds),
        },
      });
      return true;
    case "error":
      writeReply(response, ctsError(500, "CTS.0005", "Failed to read traces. Try again later."));
      return true;
    case "unavailable":
      writeReply(response, gatewayError(503, "APIG.0613", "The backend service is unavailable."));
      return true;
    case "expire-token": {
      const headerToken = request.headers["x-auth-token"];
      if (typeof headerToken === "string") {
        const token = tokens.lookup(headerToken);
        if (token !== undefined) token.expiresAt = Math.min(token.expiresAt, clock.now());
      }
      return false;
    }
    case undefined:
      return false;
  }
}

/**
 * Answers one request: counts it, plays the fault it drew, then IAM's or CTS's route, or the
 * gateway's 404.
 */
function createHandler(deps: {
  readonly context: RouteContext;
  readonly faults: FaultPlan;
  readonly tokens: TokenRegistry;
  readonly logger: Logger;
  readonly requests: Record<RequestScope, number>;
  /** Lets generated traffic catch up with the clock before CTS answers. */
  readonly catchUpAll: (now: number) => void;
  /** `host:port`, for links when a request has no Host header. */
  readonly address: () => string;
}): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const { context, faults, tokens, logger } = deps;
  const { clock } = context;
  return async (request, response) => {
    const target = request.url ?? "/";
    const parsed = new URL(target, "http://simulator.invalid");
    const scope = scopeOf(parsed.pathname);
    deps.requests[scope]++;
    const fault = faults.next(scope);
    logger.debug(
      { method: request.method, path: parsed.pathname, scope, fault: fault ?? null },
      "request",
    );
    if (await playFault(fault, { request, response }, { faults, tokens, clock })) return;
    const body = await readBody(request, DEFAULTS.maxBodyBytes);
    if (body === undefined) {
      writeReply(response, gatewayError(413, "APIG.0201", "Request entity too large."));
      return;
    }
    const route: RouteRequest = {
      method: request.method ?? "GET",
      path: parsed.pathname,
      query: parsed.searchParams,
      target,
      headers: request.headers,
      body,
      baseUrl: `http://${request.headers.host ?? deps.address()}`,
    };
    if (scope === "cts") deps.catchUpAll(clock.now());
    const reply: Reply =
      routeIam(route, context) ??
      routeCts(route, context) ??
      gatewayError(
        404,
        "APIG.0101",
        "The API does not exist or has not been published in the environment.",
      );
    writeReply(response, reply);
  };
}

/** The HTTP server: listening, and closing with every kept-alive connection. */
async function listen(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  options: SimulatorOptions,
  logger: Logger,
): Promise<{ readonly address: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "simulator request failed");
      if (!response.headersSent)
        writeReply(response, ctsError(500, "CTS.0005", "Internal simulator error."));
      else response.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? DEFAULTS.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port, address: host } = server.address() as AddressInfo;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** The account's projects as one: each by id (the primary one by default), and all at once. */
function accountOf(spaces: readonly Space[]) {
  const primary = spaces[0];
  if (primary === undefined) throw new Error("the simulator has no project");
  return {
    primary,
    space: (projectId: string | undefined): Space => {
      if (projectId === undefined) return primary;
      const space = spaces.find((candidate) => candidate.identity.projectId === projectId);
      if (space === undefined) throw new RangeError(`the simulator has no project ${projectId}`);
      return space;
    },
    /** Lets generated traffic catch up with the clock in every project. */
    catchUp: (now: number): void => {
      for (const space of spaces) space.traffic.catchUp(now);
    },
    /** One stored trace of any project, rendered. */
    trace: (id: string): RawCtsTrace | undefined => {
      for (const space of spaces) {
        const stored = space.store.get(id);
        if (stored !== undefined) return space.render(stored);
      }
      return undefined;
    },
    stored: () => spaces.reduce((sum, space) => sum + space.store.size, 0),
    projects: (url: string): SimProject[] =>
      spaces.map(({ identity }) => ({
        id: identity.projectId,
        name: identity.projectName,
        region: identity.region,
        ctsUrl: `${url}/v3/${identity.projectId}`,
      })),
  };
}

/**
 * What CTS has served: how many trace objects, and which ids unless `track` is off (a long run
 * would grow the set without bound).
 */
function createServedLog(track: boolean) {
  const ids = new Set<string>();
  let count = 0;
  return {
    ids,
    get count() {
      return count;
    },
    record(traces: readonly StoredTrace[]): void {
      count += traces.length;
      if (track) for (const trace of traces) ids.add(trace.id);
    },
  };
}

/** What IAM's and CTS's routes answer from. */
function routeContext(
  options: SimulatorOptions,
  deps: {
    readonly identity: SimIdentity;
    readonly spaces: readonly Space[];
    readonly tokens: TokenRegistry;
    readonly clock: Clock;
    readonly served: ReturnType<typeof createServedLog>;
  },
): RouteContext {
  const { identity, spaces, tokens, clock, served } = deps;
  return {
    identity,
    projects: new Map<string, ProjectSpace>(
      spaces.map((space) => [space.identity.projectId, space]),
    ),
    tokens,
    clock,
    catalogCtsv3: options.catalogCtsv3 ?? false,
    maxSkewMs: DEFAULTS.maxSkewMs,
    trackers: options.trackers ?? ["system"],
    retentionMs: DEFAULTS.retentionMs,
    onServed: (traces: readonly StoredTrace[]) => {
      served.record(traces);
    },
  };
}

/**
 * Starts the simulator (listening on 127.0.0.1, any free port unless told otherwise). IAM:
 * `/v3/auth/tokens`, `/v3/projects`, `/v3/auth/catalog`, the version documents. CTS: v3
 * traces and trackers, the v1.0/v2.0 trace paths. Real authentication checks, CTS paging and
 * time semantics, late traces, and fault injection (see {@link SimulatorOptions}).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ name: "otc_simulator", level: "silent" });
  const identity = identityFor(options.seed ?? DEFAULTS.seed, options.identity);
  const spaces = createSpaces(options, identity, clock);
  const account = accountOf(spaces);
  const faults = createFaultPlan(options.faults);
  const tokens = createTokenRegistry(clock, options.tokenTtlMs ?? DEFAULTS.tokenTtlMs);
  const served = createServedLog(options.trackServed ?? true);
  const requests = { iam: 0, cts: 0 };

  const context = routeContext(options, { identity, spaces, tokens, clock, served });
  const detections = seedPrimary(options, account.primary, clock);

  let address = "";
  const handle = createHandler({
    context,
    faults,
    tokens,
    logger,
    requests,
    catchUpAll: account.catchUp,
    address: () => address,
  });
  const server = await listen(handle, options, logger);
  address = server.address;
  const url = `http://${server.address}`;
  logger.info({ url, projectId: identity.projectId }, "OTC simulator listening");

  return {
    url,
    iamUrl: `${url}/v3`,
    ctsUrl: `${url}/v3/${identity.projectId}`,
    projectId: identity.projectId,
    domainId: identity.domainId,
    region: identity.region,
    projects: account.projects(url),
    credentials: identity,
    clock,
    detections,
    addTraces: (traces, projectId) => account.space(projectId).traffic.add(traces, clock.now()),
    preload: (preload) => {
      account.primary.traffic.preload(preload);
    },
    traceIdsIn: (window, projectId) => {
      account.catchUp(clock.now());
      return account.space(projectId).store.idsIn(window, clock.now());
    },
    trace: account.trace,
    servedTraceIds: () => served.ids,
    setFaults: (next) => {
      faults.set(next);
    },
    expireTokens: () => {
      tokens.expireAll();
    },
    issuedTokens: () => tokens.values(),
    stats: () => {
      account.catchUp(clock.now());
      return {
        requests: { ...requests },
        faultsInjected: faults.injected,
        tokensIssued: tokens.issued,
        tracesServed: served.count,
        tracesStored: account.stored(),
      };
    },
    cloudsYaml: (yamlOptions) =>
      cloudsYaml(identity, {
        authUrl: `${url}/v3`,
        ...(yamlOptions?.cloud === undefined ? {} : { cloud: yamlOptions.cloud }),
      }),
    close: () => server.close(),
  };
}
