import { availableParallelism } from "node:os";
import { meterCpu } from "../lib/cpu.js";
import { binaryShots } from "../lib/encode.js";
import { postAll, type LoadResult, type Shot } from "../lib/http-load.js";
import { formatNumber, log } from "../lib/progress.js";
import { startSinkProcess, type SinkProcess } from "../lib/sink-process.js";
import { optional, round, throughput } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";

/** Replica counts measured, each on the same Neo4j with the same offered load. */
export const REPLICA_COUNTS = [1, 2, 3] as const;

interface ReplicaStep {
  readonly replicas: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** eventsPerSecond over that of one replica. */
  readonly ratio: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly complete: boolean;
  /** Answers other than 202 (503s included: the load generator retries them). */
  readonly failures: Record<string, number>;
  /** Writes the replicas tried again after a deadlock or lock timeout. */
  readonly contentionRetries: number;
  /** Average cores used: neo4j, the sinks together, the load generator, everything else. */
  readonly cpuCores: Record<string, number>;
  /** Busy cores of the machine (all processes) over its core count: 1 = saturated. */
  readonly machineBusy: number;
}

async function retriesOf(sink: SinkProcess): Promise<number> {
  const text = await (await fetch(`${sink.url}metrics`)).text();
  const match = /^neo4j_sink_write_retries_total ([0-9.eE+-]+)$/m.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

/**
 * The shots dealt out connection by connection: connection i always talks to replica
 * i mod n, as a load balancer with sticky keep-alive connections spreads them.
 */
async function postSpread(
  shots: readonly Shot[],
  sinks: readonly SinkProcess[],
  options: { concurrency: number; boundMs: number; label: string },
): Promise<LoadResult> {
  const parts = sinks.map((sink, k) => {
    const concurrency = Math.max(
      1,
      Math.floor(options.concurrency / sinks.length) +
        (k < options.concurrency % sinks.length ? 1 : 0),
    );
    return { sink, concurrency, shots: [] as Shot[] };
  });
  shots.forEach((shot, i) => parts[i % parts.length]?.shots.push(shot));
  const loads = await Promise.all(
    parts.map((part, k) =>
      postAll(part.shots, {
        url: part.sink.url,
        concurrency: part.concurrency,
        boundMs: options.boundMs,
        label: `${options.label}#${k}`,
      }),
    ),
  );
  const failures: Record<string, number> = {};
  for (const load of loads) {
    for (const [key, count] of Object.entries(load.failures))
      failures[key] = (failures[key] ?? 0) + count;
  }
  return {
    events: loads.reduce((sum, load) => sum + load.events, 0),
    requests: loads.reduce((sum, load) => sum + load.requests, 0),
    elapsedMs: Math.max(...loads.map((load) => load.elapsedMs)),
    latenciesMs: loads.flatMap((load) => load.latenciesMs),
    failures,
    complete: loads.every((load) => load.complete),
  };
}

async function measure(
  context: BenchContext,
  replicas: number,
): Promise<Omit<ReplicaStep, "ratio">> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  // Started together, as a scaled-out Service's pods are.
  const sinks = await Promise.all(Array.from({ length: replicas }, () => startSinkProcess(db)));
  try {
    const boundMs = plan.boundsSeconds.replicas * 1000;
    const label = `replicas=${replicas}`;
    const concurrency = plan.binaryConcurrency;
    const warmup = binaryShots(events.slice(plan.events, plan.warmupEvents));
    log(`${label}: warming up with ${formatNumber(plan.warmupEvents)} events`);
    await postSpread(warmup, sinks, { concurrency, boundMs, label });
    const retriesBefore = await Promise.all(sinks.map(retriesOf));
    const shots = binaryShots(events.slice(0, plan.events));
    log(`${label}: posting ${formatNumber(plan.events)} events over ${concurrency} connections`);
    const cpu = meterCpu({
      neo4j: db.pid,
      ...Object.fromEntries(sinks.map((sink, k) => [`sink${k}`, sink.pid])),
      client: process.pid,
    });
    const load = await postSpread(shots, sinks, { concurrency, boundMs, label });
    const perProcess = cpu.stop();
    const retriesAfter = await Promise.all(sinks.map(retriesOf));
    const sinkCores = sinks.reduce((sum, _sink, k) => sum + (perProcess[`sink${k}`] ?? 0), 0);
    const cpuCores = {
      neo4j: perProcess["neo4j"] ?? 0,
      sinks: round(sinkCores, 2),
      client: perProcess["client"] ?? 0,
      others: perProcess["others"] ?? 0,
    };
    const busy = Object.values(cpuCores).reduce((sum, value) => sum + value, 0);
    return {
      replicas,
      ...throughput(load),
      complete: load.complete,
      failures: load.failures,
      contentionRetries: retriesAfter.reduce(
        (sum, after, k) => sum + after - (retriesBefore[k] ?? 0),
        0,
      ),
      cpuCores,
      machineBusy: round(busy / availableParallelism(), 2),
    };
  } finally {
    await Promise.all(sinks.map((sink) => sink.stop()));
  }
}

/**
 * Scale-out: the binary-mode load of sink-binary (same events, same total connections) spread
 * over 1, 2 and 3 sink processes on one Neo4j. Each replica has its own writer, so the
 * transactions now compete for the shared nodes (domain, users, resources, project, region):
 * the figures show what the extra writers buy and what contention costs, and the CPU columns
 * show where the machine saturates.
 */
export async function replicas(context: BenchContext): Promise<ScenarioResult> {
  const steps: ReplicaStep[] = [];
  for (const count of REPLICA_COUNTS) {
    const step = await measure(context, count);
    const base = steps[0]?.eventsPerSecond ?? step.eventsPerSecond;
    steps.push({ ...step, ratio: base === 0 ? 0 : round(step.eventsPerSecond / base, 2) });
    log(
      `replicas=${count}: ${formatNumber(step.eventsPerSecond)} events/s, ` +
        `cpu ${JSON.stringify(step.cpuCores)}, retries ${step.contentionRetries}`,
    );
  }
  const best = steps.reduce((top, step) =>
    step.eventsPerSecond > top.eventsPerSecond ? step : top,
  );
  return {
    scenario: "replicas",
    events: best.events,
    seconds: best.seconds,
    eventsPerSecond: best.eventsPerSecond,
    ...optional("p50Ms", best.p50Ms),
    ...optional("p99Ms", best.p99Ms),
    complete: steps.every((step) => step.complete),
    note: steps
      .map(
        (step) =>
          `${step.replicas}: ${formatNumber(step.eventsPerSecond)}/s (x${step.ratio}, ` +
          `machine ${Math.round(step.machineBusy * 100)}% busy, neo4j ${step.cpuCores["neo4j"]} cores)`,
      )
      .join("; "),
    details: { steps, connections: context.plan.binaryConcurrency },
  };
}
