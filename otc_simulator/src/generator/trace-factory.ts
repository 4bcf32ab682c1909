import type { RawCtsTrace } from "@cts/shared";
import type { SimIdentity, SimUser } from "../identity.js";
import type { ScenarioGroup } from "../options.js";
import { hex, hashKey, intBetween, pick, streamFor, weighted, type Random } from "../random.js";
import { ODD_NAMES } from "./odd-names.js";
import { DEFAULT_MIX, SCENARIOS, type ResourceKind, type Scenario } from "./scenarios.js";

/** A generated trace as stored: enough to order, page and filter it, and to render it again. */
export interface GeneratedTrace {
  readonly id: string;
  readonly time: number;
  readonly recordTime: number;
  readonly seq: number;
}

export interface TraceFactoryOptions {
  readonly seed: number;
  readonly identity: SimIdentity;
  readonly users: readonly SimUser[];
  readonly mix?: Partial<Readonly<Record<ScenarioGroup, number>>>;
  readonly lateFraction: number;
  readonly lateMinutes: readonly [number, number];
  readonly lagMs: readonly [number, number];
}

/** Creates trace records and renders them into CTS's wire form, deterministically per seq. */
export interface TraceFactory {
  /** The record of trace `seq` happening at `time`: its id and when CTS records it. */
  record(seq: number, time: number, lateFraction?: number): GeneratedTrace;
  /** The trace as CTS v3 returns it. */
  render(trace: GeneratedTrace): RawCtsTrace;
}

/** 100-ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const UUID_EPOCH_OFFSET = 0x01b21dd213814000n;

/**
 * A version-1 UUID like CTS's trace ids, its timestamp taken from the trace's time. Written
 * into a byte buffer and decoded once: a flat 36-byte string, where concatenation would leave
 * a rope of pieces that doubles the store's memory at 200,000 traces.
 */
function traceUuid(time: number, random: Random): string {
  const ticks = BigInt(time) * 10_000n + BigInt(Math.floor(random() * 10_000)) + UUID_EPOCH_OFFSET;
  const fields = [
    (ticks & 0xffffffffn).toString(16).padStart(8, "0"),
    ((ticks >> 32n) & 0xffffn).toString(16).padStart(4, "0"),
    (((ticks >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0"),
    (Math.floor(random() * 0x4000) | 0x8000).toString(16),
    hex(random, 12),
  ];
  return Buffer.from(fields.join("-"), "latin1").toString("latin1");
}

/** A version-4-shaped id that is stable for a given key, so resources recur across traces. */
function stableUuid(...key: (string | number)[]): string {
  const random = streamFor(...key);
  const variant = pick(random, ["8", "9", "a", "b"]);
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${variant}${hex(random, 3)}-${hex(random, 12)}`;
}

const ENVIRONMENTS = ["prod", "staging", "dev", "shared"];
const IPV4 = ["192.0.2.10", "192.0.2.44", "198.51.100.7", "198.51.100.23", "198.51.100.200"];
const UNUSUAL_IPS = ["203.0.113.66", "203.0.113.250", "2001:db8:bad::7"];
const IPV6 = ["2001:db8::1", "2001:db8:10::42"];

function resourceOf(
  kind: ResourceKind,
  context: { seed: number; random: Random; actor: SimUser | undefined; users: readonly SimUser[] },
): { id: string; name: string } {
  const { seed, random } = context;
  const stable = (name: string) => ({ id: stableUuid(seed, kind, name), name });
  switch (kind) {
    case "user": {
      const target = context.actor ?? pick(random, context.users);
      return { id: target.id, name: target.name };
    }
    case "credential": {
      const id = hex(random, 20).toUpperCase();
      return { id, name: id };
    }
    case "ecs":
      return stable(
        `ecs-${pick(random, ["web", "db", "batch", "bastion", "k8s-node"])}-${intBetween(random, 1, 12)}`,
      );
    case "vpc":
      return stable(`vpc-${pick(random, ENVIRONMENTS)}`);
    case "subnet":
      return stable(`subnet-${pick(random, ENVIRONMENTS)}-${pick(random, ["a", "b", "c"])}`);
    case "security_group_rule":
      return { id: stableUuid(seed, kind, hex(random, 8)), name: "" };
    case "eip":
      return stable(`80.158.${intBetween(random, 0, 3)}.${intBetween(random, 1, 40)}`);
    case "bucket": {
      const name = `${pick(random, ["audit-logs", "backups", "static-assets", "terraform-state", "data-lake"])}-${pick(random, ENVIRONMENTS)}`;
      return { id: name, name };
    }
    case "tracker":
      return stable("system");
  }
}

/** A base64 blob of `bytes` pseudo-random bytes (cloud-init user data). */
function blob(random: Random, bytes: number): string {
  const buffer = Buffer.allocUnsafe(bytes + 3);
  for (let offset = 0; offset < bytes; offset += 4) {
    buffer.writeUInt32LE(Math.floor(random() * 4294967296), offset);
  }
  return buffer.subarray(0, bytes).toString("base64");
}

function requestBody(
  scenario: Scenario,
  resource: { id: string; name: string },
  random: Random,
): unknown {
  switch (scenario.resource) {
    case "ecs": {
      const large = random() < 0.15;
      return {
        server: {
          name: resource.name,
          flavorRef: pick(random, ["s3.medium.2", "s3.xlarge.4", "c4.2xlarge.2"]),
          imageRef: stableUuid("image", intBetween(random, 1, 5)),
          nics: [{ subnet_id: stableUuid("subnet", intBetween(random, 1, 6)) }],
          ...(large ? { user_data: blob(random, intBetween(random, 16_384, 49_152)) } : {}),
        },
      };
    }
    case "security_group_rule":
      return {
        security_group_rule: {
          direction: "ingress",
          protocol: "tcp",
          port_range_min: pick(random, [22, 443, 3389, 5432]),
          port_range_max: pick(random, [22, 443, 3389, 5432]),
          remote_ip_prefix: pick(random, ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24"]),
        },
      };
    case "user":
      return {
        user: { name: resource.name, enabled: true, description: "managed by the simulator" },
      };
    case "credential":
      return { credential: { description: pick(random, ["ci", "terraform", "backup job"]) } };
    case "bucket":
      return { acl: pick(random, ["private", "public-read", "authenticated-read"]) };
    case "tracker":
      return {
        bucket_name: pick(random, ["audit-logs-prod", "cts-archive"]),
        status: pick(random, ["enabled", "disabled"]),
      };
    case "vpc":
    case "subnet":
    case "eip":
      return {
        [scenario.resource]: {
          name: resource.name,
          cidr: `192.168.${intBetween(random, 0, 255)}.0/24`,
        },
      };
  }
}

export function createTraceFactory(options: TraceFactoryOptions): TraceFactory {
  const { seed, identity, users } = options;
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const groupTotals = new Map<ScenarioGroup, number>();
  for (const scenario of SCENARIOS) {
    groupTotals.set(scenario.group, (groupTotals.get(scenario.group) ?? 0) + scenario.weight);
  }
  const table = SCENARIOS.map(
    (scenario) =>
      [
        scenario,
        (mix[scenario.group] * scenario.weight) / (groupTotals.get(scenario.group) ?? 1),
      ] as const,
  );
  const domain = { id: identity.domainId, name: identity.domainName };

  return {
    record(seq, time, lateFraction = options.lateFraction) {
      const random = streamFor(seed, "timing", seq);
      const late = random() < lateFraction;
      const delay = late
        ? intBetween(random, options.lateMinutes[0] * 60_000, options.lateMinutes[1] * 60_000)
        : intBetween(random, options.lagMs[0], options.lagMs[1]);
      return { id: traceUuid(time, random), time, recordTime: time + delay, seq };
    },

    render(trace) {
      const random = streamFor(seed, "content", trace.seq);
      const scenario = weighted(random, table);
      const documentedForm = random() < 0.05; // docs/otc-api-notes.md section 6: the documented number/object form
      const failed = scenario.failure !== undefined && random() < scenario.failure.rate;
      const rating = failed ? "warning" : random() < 0.002 ? "incident" : "normal";
      const system = scenario.traceType === "SystemAction";
      const actor = system ? undefined : pick(random, users);
      const resource = resourceOf(scenario.resource, { seed, random, actor, users });
      const name =
        resource.name !== "" && random() < 0.08 ? pick(random, ODD_NAMES) : resource.name;
      const code = failed ? pick(random, scenario.failure.codes) : scenario.okCode;
      const request = scenario.creates === true ? requestBody(scenario, resource, random) : null;
      const response = failed
        ? scenario.traceName === "login"
          ? { error_code: "IAM.0062", error_msg: "Incorrect password." }
          : {
              error_code: `${scenario.service}.${String((hashKey(code) % 9000) + 1000)}`,
              error_msg: "Operation failed.",
            }
        : { status: "success", request_id: hex(random, 16) };
      const sourceIp = system
        ? pick(random, [null, ""])
        : failed && scenario.traceName === "login"
          ? pick(random, UNUSUAL_IPS)
          : pick(random, random() < 0.1 ? IPV6 : IPV4);
      const text = (value: unknown) => (value === null ? null : JSON.stringify(value));
      const service = scenario.service.toLowerCase();
      return {
        trace_id: trace.id,
        trace_name: scenario.traceName,
        trace_rating: rating,
        trace_type: scenario.traceType,
        request: documentedForm ? request : text(request),
        response: documentedForm ? response : text(response),
        code: documentedForm ? Number(code) : code,
        api_version: scenario.apiVersion,
        message: null,
        record_time: trace.recordTime,
        time: trace.time,
        user: actor === undefined ? null : { id: actor.id, name: actor.name, domain },
        service_type: scenario.service,
        resource_type: scenario.resource,
        resource_name: name,
        resource_id: resource.id,
        source_ip: sourceIp,
        request_id: hex(random, 32),
        location_info: failed ? `${scenario.traceName} failed with ${code}` : null,
        endpoint: `https://console.otc.t-systems.com/${service}/`,
        resource_url: `?region=${identity.region}&project=${identity.projectId}#/${service}/${scenario.resource}/${resource.id}`,
      };
    },
  };
}
