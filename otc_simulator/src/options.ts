import type { Logger, RawCtsTrace } from "@cts/shared";
import type { Clock } from "./clock.js";
import type { SimIdentity } from "./identity.js";

/** The scenario groups the generator mixes (see generator/scenarios.ts). */
export type ScenarioGroup = "iam" | "ecs" | "vpc" | "obs" | "cts" | "system";

/** What the live generator produces. */
interface GeneratorOptions {
  /** Traces per second of simulated time; 0 (the default) generates nothing by itself. */
  readonly rate?: number;
  /** Relative weights of the groups; missing groups keep their defaults. */
  readonly mix?: Partial<Readonly<Record<ScenarioGroup, number>>>;
  /** Share of traces recorded minutes after they happened (default 0.05). */
  readonly lateFraction?: number;
  /** How late a late trace is recorded, in minutes (default [2, 10]). */
  readonly lateMinutes?: readonly [number, number];
  /** Ordinary recording delay in ms (default [200, 3000]). */
  readonly lagMs?: readonly [number, number];
}

/** Bulk generation of `count` traces with `time` spread over the window (exclusive bounds). */
export interface PreloadOptions {
  readonly count: number;
  readonly from: number;
  readonly to: number;
  /** Overrides the generator's late share for this batch (0 makes every trace visible at once). */
  readonly lateFraction?: number;
}

/** Failures to inject; affected requests are counted per scope. */
export type FaultKind =
  /** 429 APIG.0308 with Retry-After. */
  | "throttle"
  /** 500 CTS.0005. */
  | "error"
  /** 503 APIG.0613. */
  | "unavailable"
  /** The normal answer, after `slowMs`. */
  | "slow"
  /** The connection is destroyed without an answer. */
  | "reset"
  /** The presented token expires now: 401 APIG.0307 "The token must be updated." */
  | "expire-token";

export interface FaultOptions {
  /** Every n-th request of the scope (counting from the moment the faults were set) fails. */
  readonly every: number;
  /** What the affected requests get, in rotation. */
  readonly kinds: readonly FaultKind[];
  /** Which requests count: CTS only (default), IAM only, or all. */
  readonly scope?: "cts" | "iam" | "all";
  /** Retry-After of throttled answers, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** Delay of slow answers in ms (default 2000). */
  readonly slowMs?: number;
  /** Stop injecting after this many faults. */
  readonly limit?: number;
}

export interface SimulatorOptions {
  /** 127.0.0.1 by default; loopback only is the point. */
  readonly host?: string;
  /** 0 (any free port) by default. */
  readonly port?: number;
  /** Seeds identity and traffic; 1 by default. */
  readonly seed?: number;
  readonly clock?: Clock;
  readonly identity?: Partial<SimIdentity>;
  /** IAM token lifetime, 24 h by default (as OTC). */
  readonly tokenTtlMs?: number;
  /** Whether the catalog lists a `ctsv3` entry (unverified on OTC; false by default). */
  readonly catalogCtsv3?: boolean;
  /**
   * More projects of the same account, each with its own id, region and traces (the generator
   * feeds every project). `name` is `<region>_<suffix>`, as OTC names projects; the region is
   * taken from that prefix unless given.
   */
  readonly extraProjects?: readonly { readonly name: string; readonly region?: string }[];
  /** Trackers that exist; `["system"]` by default. */
  readonly trackers?: readonly string[];
  readonly generator?: GeneratorOptions;
  readonly preload?: PreloadOptions;
  readonly faults?: FaultOptions;
  /**
   * Serve the firing pattern of these detection rules (their firing fixture cases, placed in
   * the last day or two); `"all"` for every rule. See generator/detection-patterns.ts.
   */
  readonly detections?: "all" | readonly string[];
  /** Extra traces to serve, exactly as given (see `Simulator.addTraces`). */
  readonly traces?: readonly RawCtsTrace[];
  /** Request log at debug level; silent by default. */
  readonly logger?: Logger;
  /** Remember which trace ids were served (default true; the benchmark may turn it off). */
  readonly trackServed?: boolean;
}

export const DEFAULTS = {
  host: "127.0.0.1",
  seed: 1,
  tokenTtlMs: 24 * 60 * 60 * 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  maxSkewMs: 15 * 60 * 1000,
  lateFraction: 0.05,
  lateMinutes: [2, 10] as const,
  lagMs: [200, 3000] as const,
  retryAfterSeconds: 1,
  slowMs: 2000,
  maxBodyBytes: 12 * 1024 * 1024,
} as const;
