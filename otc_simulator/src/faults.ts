import type { FaultKind, FaultOptions } from "./options.js";

export type RequestScope = "iam" | "cts";

/** Decides which requests fail; counters restart whenever the plan changes. */
interface FaultPlan {
  set(options: FaultOptions | undefined): void;
  /** Counts a request of `scope` and returns the fault it gets, if any. */
  next(scope: RequestScope): FaultKind | undefined;
  readonly options: FaultOptions | undefined;
  readonly injected: number;
}

export function createFaultPlan(initial?: FaultOptions): FaultPlan {
  let options: FaultOptions | undefined;
  let counted = 0;
  let injectedSincePlan = 0;
  let injected = 0;
  const plan: FaultPlan = {
    set(next) {
      if (
        next !== undefined &&
        (!Number.isInteger(next.every) || next.every < 1 || next.kinds.length === 0)
      ) {
        throw new RangeError("faults need every >= 1 and at least one kind");
      }
      options = next;
      counted = 0;
      injectedSincePlan = 0;
    },
    next(scope) {
      if (options === undefined) return undefined;
      const wanted = options.scope ?? "cts";
      if (wanted !== "all" && wanted !== scope) return undefined;
      counted++;
      if (counted % options.every !== 0) return undefined;
      if (options.limit !== undefined && injectedSincePlan >= options.limit) return undefined;
      const kind = options.kinds[injectedSincePlan % options.kinds.length];
      injectedSincePlan++;
      injected++;
      return kind;
    },
    get options() {
      return options;
    },
    get injected() {
      return injected;
    },
  };
  plan.set(initial);
  return plan;
}
