import { z } from "zod";

/** Severities, lowest first; the CLI sorts and counts by them. */
export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** `TA0005 Defense Evasion`: an ATT&CK tactic id and its name. */
const tactic = z.string().regex(/^TA\d{4} \S.*$/, "expected 'TA0000 Tactic Name'");
/** `T1562.008 Impair Defenses: Disable or Modify Cloud Logs`: a technique or sub-technique. */
const technique = z
  .string()
  .regex(/^T\d{4}(?:\.\d{3})? \S.*$/, "expected 'T0000[.000] Technique Name'");

/** Rule ids are file names too: lower-case words joined by dashes. */
const RULE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A value a threshold or list parameter may take (what Neo4j accepts as a parameter). */
const parameterValue = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z.array(z.union([z.string(), z.number()])),
]);

/** Parameters every rule gets from the runner; a rule may not declare defaults for them. */
export const WINDOW_PARAMETERS = ["since", "until"] as const;

export const Rule = z.strictObject({
  id: z.string().regex(RULE_ID, "expected lower-case words joined by dashes"),
  title: z.string().min(5).max(100),
  severity: z.enum(SEVERITIES),
  description: z.string().min(20),
  mitre: z
    .array(z.strictObject({ tactic, technique }))
    .min(1, "map the rule to at least one ATT&CK technique"),
  /** The CTS values the query relies on: what must be in the traces for the rule to work. */
  cts: z
    .array(
      z.strictObject({
        service_type: z
          .string()
          .regex(/^(?:[A-Z0-9]+|\*)$/, "service_type is upper case, e.g. IAM, or * for any"),
        resource_type: z.string().min(1).optional(),
        /** Trace names as CTS spells them; `*` is any, `delete*` any starting with delete. */
        trace_names: z
          .array(z.string().regex(/^(?:[A-Za-z][A-Za-z0-9_.-]*\*?|\*)$/, "a trace name"))
          .min(1),
      }),
    )
    .min(1),
  /** Defaults of the query's other parameters ($since and $until always come from the runner). */
  parameters: z
    .record(z.string().regex(/^[a-z][A-Za-z0-9]*$/), parameterValue)
    .refine(
      (params) => !WINDOW_PARAMETERS.some((name) => name in params),
      "since and until are set by the runner, not by the rule",
    )
    .default({}),
  /** Tabular Cypher: one row per finding, with at least the columns `key` and `summary`. */
  query: z.string().min(20),
  /** Cypher for the Neo4j Browser's graph view: returns paths or nodes of the findings. */
  visual: z.string().min(20),
  false_positives: z.string().min(10),
});
export type Rule = z.infer<typeof Rule>;

/**
 * A fixture case: CTS traces in their JSON form, except that `time` (and `record_time`, when
 * given) is an offset from the case's window start ("+10m", "-3d", "+0s"), so every case can be
 * placed in its own stretch of time.
 */
export const FixtureCase = z.strictObject({
  name: z.string().min(3),
  /** The exact finding keys the rule returns on this case; empty for a non-firing case. */
  expect: z.array(z.string()),
  /** Window length ("1d" unless set); $since is the window start, $until its end. */
  window: z.string().optional(),
  /**
   * Other rules that rightly fire on this case too, with their exact keys (a tracker disabled
   * before deletions is also a disabled tracker). Every other rule must return nothing.
   */
  also: z.record(z.string().regex(RULE_ID), z.array(z.string()).min(1)).optional(),
  /** Overrides of the rule's parameter defaults for this case. */
  parameters: z.record(z.string(), parameterValue).optional(),
  traces: z.array(z.looseObject({ trace_id: z.string().min(1), time: z.string() })).min(1),
});
export type FixtureCase = z.infer<typeof FixtureCase>;

export const FixtureFile = z.strictObject({
  rule: z.string().regex(RULE_ID),
  cases: z
    .array(FixtureCase)
    .min(2)
    .refine(
      (cases) => cases.some((c) => c.expect.length > 0) && cases.some((c) => c.expect.length === 0),
      "needs at least one firing case (expect not empty) and one non-firing case (expect empty)",
    ),
});
export type FixtureFile = z.infer<typeof FixtureFile>;
