import { CtsTrace, traceToCloudEvent, type RawCtsTrace, type TraceOrigin } from "@cts/shared";
import { manualClock, ODD_NAMES, startSimulator, type Simulator } from "@cts/otc_simulator";
import type { Progress } from "./progress.js";
import { hex, pick, skewedIndex, streamAt, type Random } from "./random.js";

/** How many distinct things the events touch (issue 7: a mid-sized tenant). */
const EVENT_SET_SHAPE = {
  users: 200,
  resources: 5_000,
  ips: 30,
  projects: 5,
  regions: 2,
} as const;

/** A CloudEvent as the exporter builds it (the `cloudevents` package is not a root dependency). */
export type BenchEvent = ReturnType<typeof traceToCloudEvent>;

/** A deterministic, indexable list of realistic CloudEvents. */
export interface EventSet {
  readonly size: number;
  /** Events `[start, start + count)`, oldest first; built on demand, so a long list costs little. */
  slice(start: number, count: number): BenchEvent[];
  close(): Promise<void>;
}

/** Events `[start, start + count)` of a set. */
export interface EventRange {
  readonly events: EventSet;
  readonly start: number;
  readonly count: number;
}

/**
 * Where the range's consecutive chunks of at most `size` events start and how long they are;
 * `meter` ticks once the caller is done with a chunk.
 */
export function* chunksOf(
  range: EventRange,
  size: number,
  meter: Progress,
): Generator<{ readonly start: number; readonly count: number }> {
  for (let done = 0; done < range.count; done += size) {
    const count = Math.min(size, range.count - done);
    yield { start: range.start + done, count };
    meter.tick(done + count, range.count);
  }
}

interface Place {
  readonly id: string;
  readonly region: string;
}
interface Named {
  readonly id: string;
  readonly name: string;
}

const REGIONS = ["eu-de", "eu-nl"] as const;
const SEED = 7;
const DAY = 24 * 60 * 60 * 1000;
/** A fixed clock makes ids and times, not only the mix, the same on every run. */
const EPOCH = Date.parse("2026-01-15T00:00:00Z");

/**
 * Resources per simulator resource type; with the 200 users (IAM's `user` resources) they add
 * up to EVENT_SET_SHAPE.resources. Multiples of 5 so every project owns the same share.
 */
const RESOURCE_POOLS: Readonly<Record<string, number>> = {
  ecs: 1_500,
  security_group_rule: 1_000,
  subnet: 600,
  credential: 580,
  bucket: 500,
  eip: 400,
  vpc: 200,
  tracker: 20,
};

function resourceName(type: string, k: number, random: Random): Named {
  const env = pick(random, ["prod", "staging", "dev", "shared"]);
  const id = `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
  switch (type) {
    case "credential": {
      const key = hex(random, 20).toUpperCase();
      return { id: key, name: key };
    }
    case "bucket": {
      const name = `${pick(random, ["audit-logs", "backups", "static-assets", "data-lake"])}-${env}-${k}`;
      return { id: name, name };
    }
    case "security_group_rule":
      return { id, name: "" };
    case "eip":
      return { id, name: `80.158.${Math.floor(k / 250)}.${k % 250}` };
    case "tracker":
      return { id, name: "system" };
    default:
      return { id, name: `${type}-${env}-${String(k).padStart(4, "0")}` };
  }
}

/** The tenant the events are recast into: its projects, users, resources and addresses. */
function buildCast() {
  const random = streamAt(SEED, -1);
  const projects: Place[] = Array.from({ length: EVENT_SET_SHAPE.projects }, (_, i) => ({
    id: hex(random, 32),
    region: REGIONS[i < 3 ? 0 : 1],
  }));
  const users: Named[] = Array.from({ length: EVENT_SET_SHAPE.users }, (_, i) => ({
    id: hex(random, 32),
    name: `${pick(random, ["ops", "dev", "svc", "sec", "ci"])}-user-${String(i).padStart(3, "0")}`,
  }));
  const resources = new Map<string, Named[]>();
  for (const [type, size] of Object.entries(RESOURCE_POOLS)) {
    resources.set(
      type,
      Array.from({ length: size }, (_, k) => resourceName(type, k, random)),
    );
  }
  const ipv4 = Array.from({ length: 22 }, (_, i) => `198.51.100.${10 + i * 7}`);
  const ipv6 = Array.from({ length: 4 }, (_, i) => `2001:db8:${i + 1}::42`);
  const unusual = ["203.0.113.66", "203.0.113.250", "203.0.113.7", "2001:db8:bad::7"];
  return { projects, users, resources, usual: [...ipv4, ...ipv6], unusual };
}

type Cast = ReturnType<typeof buildCast>;

const blank = (value: unknown) => value === null || value === undefined || value === "";

/**
 * Maps a simulator trace onto the bigger tenant: the simulator's traffic mix (operations,
 * failures, ratings, odd names, large request bodies) stays as it is, while users, resources,
 * addresses, projects and regions are redrawn from the pools, skewed as real tenants are.
 */
function recast(raw: RawCtsTrace, index: number, cast: Cast) {
  const random = streamAt(SEED, index);
  const projectIndex = skewedIndex(random, cast.projects.length, 0.5);
  const project = cast.projects[projectIndex] ?? cast.projects[0];
  if (project === undefined) throw new Error("no projects");
  const rawUser = raw["user"] as { id?: string; domain?: unknown } | null | undefined;
  const user =
    rawUser === null || rawUser === undefined
      ? undefined
      : cast.users[skewedIndex(random, cast.users.length)];
  const type = String(raw["resource_type"]);
  let resource: Named | undefined;
  if (type === "user") {
    resource =
      user !== undefined && raw["resource_id"] === rawUser?.id
        ? user
        : cast.users[skewedIndex(random, cast.users.length)];
  } else {
    const pool = cast.resources.get(type) ?? [];
    const perProject = Math.floor(pool.length / cast.projects.length);
    resource = pool[skewedIndex(random, perProject) * cast.projects.length + projectIndex];
  }
  const name = raw["resource_name"];
  const oddName = typeof name === "string" && ODD_NAMES.includes(name);
  const failedLogin = raw["trace_name"] === "login" && raw["trace_rating"] === "warning";
  const sourceIp = blank(raw["source_ip"])
    ? raw["source_ip"]
    : failedLogin
      ? pick(random, cast.unusual)
      : cast.usual[skewedIndex(random, cast.usual.length, 0.6)];
  const trace: RawCtsTrace = {
    ...raw,
    user:
      user === undefined ? raw["user"] : { id: user.id, name: user.name, domain: rawUser?.domain },
    resource_id: resource?.id ?? raw["resource_id"],
    resource_name: oddName ? name : (resource?.name ?? name),
    source_ip: sourceIp,
    resource_url: `?region=${project.region}&project=${project.id}#/${type}/${resource?.id ?? ""}`,
  };
  return { trace, project };
}

/**
 * The benchmark's events: `size` traces from the OTC simulator's seeded generator (its
 * default traffic mix, spread over the last days), recast into EVENT_SET_SHAPE and mapped to
 * CloudEvents with the exporter's own `traceToCloudEvent`. The same size gives the same events.
 */
export async function createEventSet(size: number): Promise<EventSet> {
  const from = EPOCH - 6 * DAY;
  const to = EPOCH - 60 * 60 * 1000;
  const sim: Simulator = await startSimulator({
    seed: SEED,
    clock: manualClock(EPOCH),
    trackServed: false,
    preload: { count: size, from, to, lateFraction: 0 },
  });
  // CTS lists newest first; the set is replayed oldest first, as an exporter catching up would.
  const ids = sim.traceIdsIn({ from, to }).reverse();
  const cast = buildCast();
  const domainId = sim.domainId;
  return {
    size: ids.length,
    slice(start, count) {
      const events: BenchEvent[] = [];
      for (let index = start; index < Math.min(ids.length, start + count); index++) {
        const id = ids[index];
        const raw = id === undefined ? undefined : sim.trace(id);
        if (raw === undefined) throw new Error(`simulator lost trace ${String(id)}`);
        const { trace, project } = recast(raw, index, cast);
        const origin: TraceOrigin = {
          source: `https://cts.${project.region}.otc.t-systems.com/v3/${project.id}`,
          region: project.region,
          projectId: project.id,
          domainId,
        };
        events.push(traceToCloudEvent(CtsTrace.parse(trace), trace, { origin }));
      }
      return events;
    },
    close: () => sim.close(),
  };
}
