/**
 * `pnpm simulator [--port 4545] [--rate 5] [--seed 1] ...`: runs the OTC simulator until
 * SIGINT/SIGTERM and prints a clouds.yaml that points the exporter at it.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "@cts/shared";
import type { FaultKind, FaultOptions, ScenarioGroup, SimulatorOptions } from "./options.js";
import { startSimulator, type Simulator } from "./simulator.js";

const USAGE = `usage: pnpm simulator [options]

  --port N              listen port (default 4545; 0 = any free port)
  --host ADDR           listen address (default 127.0.0.1)
  --seed N              seeds identity and traffic (default 1)
  --rate R              live traces per second (default 5; 0 = none)
  --mix G=W,...         group weights, groups iam ecs vpc obs cts system (e.g. iam=60,system=5)
  --late-fraction F     share of traces recorded minutes late (default 0.05)
  --preload N           generate N traces at start, spread over the last --preload-minutes
  --preload-minutes M   window of --preload (default 60)
  --ctsv3               list a ctsv3 entry in the IAM catalog
  --token-ttl SECONDS   IAM token lifetime (default 86400)
  --faults EVERY:KINDS  e.g. 3:throttle,error (kinds: throttle error unavailable slow reset expire-token)
  --fault-scope S       cts (default), iam or all
  --retry-after SECONDS Retry-After of throttled answers (default 1)
  --slow-ms MS          delay of slow answers (default 2000)
  --detections RULES    also serve the firing pattern of detection rules: all, or ID,ID,...
                        (their firing fixtures, placed in the last day or two; then
                        pnpm detect --since <the window start printed>)
  --cloud NAME          cloud name in the printed clouds.yaml (default simulator)
  --write-clouds PATH   also write that clouds.yaml to PATH
  --verbose             log every request (JSON lines on stderr)
`;

const KINDS: readonly FaultKind[] = [
  "throttle",
  "error",
  "unavailable",
  "slow",
  "reset",
  "expire-token",
];
const GROUPS: readonly ScenarioGroup[] = ["iam", "ecs", "vpc", "obs", "cts", "system"];

class UsageError extends Error {}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`--${name} needs a number >= 0`);
  return parsed;
}

function faultsFrom(
  values: Record<string, string | boolean | undefined>,
): FaultOptions | undefined {
  const text = values["faults"];
  if (typeof text !== "string") return undefined;
  const [every, kindList] = text.split(":");
  const kinds = (kindList ?? "").split(",").filter((kind) => kind !== "");
  const unknown = kinds.filter((kind) => !KINDS.includes(kind as FaultKind));
  if (!/^\d+$/.test(every ?? "") || Number(every) < 1 || kinds.length === 0 || unknown.length > 0) {
    throw new UsageError(`--faults needs EVERY:KIND[,KIND...] with kinds from ${KINDS.join(", ")}`);
  }
  const scope = values["fault-scope"] ?? "cts";
  if (scope !== "cts" && scope !== "iam" && scope !== "all")
    throw new UsageError("--fault-scope is cts, iam or all");
  return {
    every: Number(every),
    kinds: kinds as FaultKind[],
    scope,
    retryAfterSeconds: number(values["retry-after"] as string | undefined, "retry-after", 1),
    slowMs: number(values["slow-ms"] as string | undefined, "slow-ms", 2000),
  };
}

function mixFrom(text: string | undefined): Partial<Record<ScenarioGroup, number>> | undefined {
  if (text === undefined) return undefined;
  const mix: Partial<Record<ScenarioGroup, number>> = {};
  for (const part of text.split(",")) {
    const [group, weight] = part.split("=");
    if (!GROUPS.includes(group as ScenarioGroup))
      throw new UsageError(`--mix: unknown group "${group ?? ""}"`);
    mix[group as ScenarioGroup] = number(weight, "mix", 0);
  }
  return mix;
}

/** The command line's flags, as parseArgs reads them. */
function parseCli(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      port: { type: "string" },
      host: { type: "string" },
      seed: { type: "string" },
      rate: { type: "string" },
      mix: { type: "string" },
      "late-fraction": { type: "string" },
      preload: { type: "string" },
      "preload-minutes": { type: "string" },
      ctsv3: { type: "boolean" },
      "token-ttl": { type: "string" },
      faults: { type: "string" },
      "fault-scope": { type: "string" },
      "retry-after": { type: "string" },
      "slow-ms": { type: "string" },
      detections: { type: "string" },
      cloud: { type: "string" },
      "write-clouds": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }).values;
}

type CliValues = ReturnType<typeof parseCli>;

/** The simulator the flags ask for; a flag out of range is a UsageError. */
function simulatorOptions(values: CliValues) {
  const rate = number(values.rate, "rate", 5);
  const seed = number(values.seed, "seed", 1);
  const preloadCount = number(values.preload, "preload", 0);
  const now = Date.now();
  const mix = mixFrom(values.mix);
  const faults = faultsFrom(values);
  return {
    port: number(values.port, "port", 4545),
    host: values.host ?? "127.0.0.1",
    seed,
    tokenTtlMs: number(values["token-ttl"], "token-ttl", 86_400) * 1000,
    catalogCtsv3: values.ctsv3 === true,
    trackServed: false, // nothing reads it here, and a long run would grow it without bound
    generator: {
      rate,
      lateFraction: number(values["late-fraction"], "late-fraction", 0.05),
      ...(mix === undefined ? {} : { mix }),
    },
    ...(preloadCount > 0
      ? {
          preload: {
            count: preloadCount,
            from: now - number(values["preload-minutes"], "preload-minutes", 60) * 60_000,
            to: now,
          },
        }
      : {}),
    ...(faults === undefined ? {} : { faults }),
    ...(values.detections === undefined
      ? {}
      : {
          detections:
            values.detections === "all"
              ? ("all" as const)
              : values.detections.split(",").filter((id) => id !== ""),
        }),
    ...(values.verbose === true
      ? {
          logger: createLogger({
            name: "otc_simulator",
            level: "debug",
            destination: process.stderr,
          }),
        }
      : {}),
  } satisfies SimulatorOptions;
}

/** What the simulator prints once it listens: where it is, and the clouds.yaml to use it with. */
function banner(
  simulator: Simulator,
  options: ReturnType<typeof simulatorOptions>,
  clouds: { readonly cloud: string; readonly yaml: string; readonly writtenTo: string | undefined },
): string {
  const { seed, faults } = options;
  const { rate } = options.generator;
  const preloadCount = options.preload?.count ?? 0;
  const { cloud, writtenTo } = clouds;
  return [
    `OTC simulator listening on ${simulator.url} (seed ${seed}, ${rate} traces/s${preloadCount > 0 ? `, ${preloadCount} preloaded` : ""}${faults === undefined ? "" : `, faults every ${faults.every}: ${faults.kinds.join(",")}`})`,
    `  IAM  ${simulator.iamUrl}`,
    `  CTS  ${simulator.ctsUrl}`,
    ...(simulator.detections === undefined
      ? []
      : [
          `  detection patterns of ${simulator.detections.rules.length} rules (${simulator.detections.traces.length} traces); after collecting them:`,
          `    pnpm detect --since ${new Date(simulator.detections.since).toISOString()}`,
        ]),
    "",
    writtenTo === undefined
      ? "Save this as ./clouds.yaml (or point OS_CLIENT_CONFIG_FILE at it):"
      : `Written to ${writtenTo} (OS_CLIENT_CONFIG_FILE=${writtenTo}):`,
    "",
    clouds.yaml,
    `Then choose a cloud: OS_CLOUD=${cloud} (password) or OS_CLOUD=${cloud}-aksk (AK/SK), e.g.`,
    `  OS_CLOUD=${cloud} pnpm start:exporter --once --dry-run`,
    "Ctrl-C stops the simulator.",
    "",
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const values = parseCli(argv);
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = simulatorOptions(values);
  const simulator = await startSimulator(options);
  const cloud = values.cloud ?? "simulator";
  const yaml = simulator.cloudsYaml({ cloud });
  const writtenTo = values["write-clouds"];
  if (writtenTo !== undefined) writeFileSync(writtenTo, yaml, { mode: 0o600 });
  process.stdout.write(banner(simulator, options, { cloud, yaml, writtenTo }));

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  const stats = simulator.stats();
  await simulator.close();
  process.stdout.write(
    `\nstopped: ${stats.requests.iam} IAM and ${stats.requests.cts} CTS requests, ${stats.tracesServed} traces served, ${stats.faultsInjected} faults injected, ${stats.tracesStored} traces stored\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage =
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(
      `otc_simulator: ${(error as Error).message}\n${usage === true ? USAGE : ""}`,
    );
    process.exitCode = usage === true ? 64 : 1;
  },
);
