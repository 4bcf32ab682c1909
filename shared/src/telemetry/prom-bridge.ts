import { ValueType, type HrTime } from "@opentelemetry/api";
import { emptyResource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";

/** One metric as prom-client's `Registry.getMetricsAsJSON()` returns it. */
export interface PromMetricJson {
  readonly name: string;
  readonly help: string;
  /** "counter", "gauge", "histogram" or "summary" at run time (prom-client's typing says enum). */
  readonly type: unknown;
  readonly values: readonly {
    readonly value: number;
    readonly labels: Readonly<Partial<Record<string, string | number>>>;
    readonly metricName?: string;
  }[];
}

/** What the bridge needs of a prom-client Registry. */
export interface PromRegistryLike {
  getMetricsAsJSON(): Promise<readonly PromMetricJson[]>;
}

type Labels = Record<string, string | number>;

function cleanLabels(labels: Readonly<Partial<Record<string, string | number>>>): Labels {
  const clean: Labels = {};
  for (const [key, value] of Object.entries(labels)) if (value !== undefined) clean[key] = value;
  return clean;
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

/** What every bridged metric has: its prom-client help, no unit, double values, cumulative. */
function describe(
  metric: PromMetricJson,
  name = metric.name,
): Pick<MetricData, "descriptor" | "aggregationTemporality"> {
  return {
    descriptor: { name, description: metric.help, unit: "", valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
  };
}

function histogramOf(metric: PromMetricJson, times: { start: HrTime; now: HrTime }): MetricData {
  interface Series {
    labels: Labels;
    buckets: { le: number; cumulative: number }[];
    sum: number;
    count: number;
  }
  const series = new Map<string, Series>();
  for (const value of metric.values) {
    const { le, ...rest } = cleanLabels(value.labels);
    const key = keyOf(rest);
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { labels: rest, buckets: [], sum: 0, count: 0 };
      series.set(key, entry);
    }
    if (value.metricName?.endsWith("_bucket") === true) {
      const bound = Number(le);
      if (Number.isFinite(bound)) entry.buckets.push({ le: bound, cumulative: value.value });
    } else if (value.metricName?.endsWith("_sum") === true) entry.sum = value.value;
    else if (value.metricName?.endsWith("_count") === true) entry.count = value.value;
  }
  return {
    ...describe(metric),
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [...series.values()].map((entry) => {
      const sorted = entry.buckets.sort((a, b) => a.le - b.le);
      // Prometheus buckets are cumulative (<= le); OTLP wants the count of each bucket alone,
      // with one more bucket above the last bound.
      const counts = sorted.map(
        (bucket, i) => bucket.cumulative - (sorted[i - 1]?.cumulative ?? 0),
      );
      counts.push(entry.count - (sorted.at(-1)?.cumulative ?? 0));
      return {
        startTime: times.start,
        endTime: times.now,
        attributes: entry.labels,
        value: {
          buckets: { boundaries: sorted.map((bucket) => bucket.le), counts },
          sum: entry.sum,
          count: entry.count,
        },
      };
    }),
  };
}

/**
 * Turns prom-client metrics into OpenTelemetry metric data: counters become monotonic
 * cumulative sums (named without `_total`, which OpenTelemetry's Prometheus exporters add back),
 * gauges gauges, histograms explicit-bucket histograms. Summaries have no OpenTelemetry SDK
 * counterpart and are left out; the services define none.
 */
export function promToMetricData(
  metrics: readonly PromMetricJson[],
  times: { start: HrTime; now: HrTime },
): MetricData[] {
  const data: MetricData[] = [];
  for (const metric of metrics) {
    const type = String(metric.type);
    const points = metric.values.map((value) => ({
      startTime: times.start,
      endTime: times.now,
      attributes: cleanLabels(value.labels),
      value: value.value,
    }));
    if (type === "counter") {
      data.push({
        ...describe(metric, metric.name.replace(/_total$/, "")),
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: points,
      });
    } else if (type === "gauge") {
      data.push({
        ...describe(metric),
        dataPointType: DataPointType.GAUGE,
        dataPoints: points,
      });
    } else if (type === "histogram") {
      data.push(histogramOf(metric, times));
    }
  }
  return data;
}

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/**
 * A MetricProducer reading prom-client registries at every export, so the metrics on /metrics
 * also go out over OTLP, unchanged and without being recorded twice.
 */
export function createPromMetricProducer(
  registries: () => readonly PromRegistryLike[],
): MetricProducer {
  const start = hrTime(Date.now());
  return {
    async collect(): Promise<CollectionResult> {
      const errors: unknown[] = [];
      const metrics: MetricData[] = [];
      for (const registry of registries()) {
        try {
          metrics.push(
            ...promToMetricData(await registry.getMetricsAsJSON(), {
              start,
              now: hrTime(Date.now()),
            }),
          );
        } catch (error) {
          errors.push(error);
        }
      }
      return {
        // The reader replaces a producer's resource with the SDK's own.
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [{ scope: { name: "prom-client" }, metrics }],
        },
        errors,
      };
    },
  };
}
