import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from "prom-client";

/** A metric's settings besides its name and help text: label names, buckets, a collect(). */
type Settings<C> = Omit<C, "name" | "help" | "registers">;

/**
 * Makes a service's metrics on `registry` alone, never on prom-client's global one, so tests and
 * several in-process services stay apart. Names, help texts and labels are what /metrics shows
 * (docs/operations.md lists them).
 */
export function promMetricsOn(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string>(
      name: string,
      help: string,
      settings?: Settings<CounterConfiguration<L>>,
    ) => new Counter<L>({ name, help, ...settings, registers }),
    gauge: <L extends string>(
      name: string,
      help: string,
      settings?: Settings<GaugeConfiguration<L>>,
    ) => new Gauge<L>({ name, help, ...settings, registers }),
    histogram: <L extends string>(
      name: string,
      help: string,
      settings?: Settings<HistogramConfiguration<L>>,
    ) => new Histogram<L>({ name, help, ...settings, registers }),
  };
}
