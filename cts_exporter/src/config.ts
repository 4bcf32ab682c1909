import { parseArgs } from "node:util";
import { z } from "zod";
import { AppError, ErrorCode, type Env } from "@cts/shared";
import { parseCeOverrides } from "./core/overrides.js";
import { parseCtsEndpoint } from "./otc/catalog.js";

type DeliveryMode = "binary" | "structured" | "batch";

/** The exporter's settings (docs/event-contract.md section 5), validated at start. Cloud credentials live apart. */
export interface ExporterConfig {
  readonly once: boolean;
  readonly dryRun: boolean;
  readonly debug: boolean;
  readonly tracker: string;
  /** CTS_FROM (or --from) in minutes: first look-back and interval. */
  readonly fromMinutes: number;
  readonly overlapMinutes: number;
  /** CTS_POLL_INTERVAL_SECONDS: an interval shorter than CTS_FROM, for demos and tests. */
  readonly pollIntervalSeconds: number | undefined;
  readonly push: boolean;
  readonly sink: URL | undefined;
  readonly overrides: Readonly<Record<string, string>>;
  readonly caCerts: string | undefined;
  /** Where Knative mounts the sender's OIDC token; absent file = no Authorization header. */
  readonly oidcTokenFile: string;
  readonly ctsEndpoint: string | undefined;
  readonly stateFile: string | undefined;
  /**
   * CTS_PROJECTS: the projects to poll (names or ids), `"all"` for every project IAM lists for
   * the credentials, or undefined for the one project of clouds.yaml.
   */
  readonly projects: readonly string[] | "all" | undefined;
  /** CTS_DEAD_LETTER_FILE: where rejected events go; unset, a rejected event fails the cycle. */
  readonly deadLetterFile: string | undefined;
  readonly port: number;
  readonly mode: DeliveryMode;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly sinkTimeoutMs: number;
  readonly retryAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** Where a Knative SinkBinding mounts the OIDC token when `authentication-oidc` is on. */
export const DEFAULT_OIDC_TOKEN_FILE = "/oidc/token";

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const normalised = value.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(normalised)) return true;
      if (["false", "0", "no", "off"].includes(normalised)) return false;
      ctx.addIssue({ code: "custom", message: `${name} must be true or false, got "${value}"` });
      return z.NEVER;
    });

const int = (name: string, range: { min: number; max: number; fallback: number }) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return range.fallback;
      const parsed = Number(value.trim());
      if (!Number.isInteger(parsed) || parsed < range.min || parsed > range.max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a whole number from ${range.min} to ${range.max}, got "${value}"`,
        });
        return z.NEVER;
      }
      return parsed;
    });

const EnvSchema = z.object({
  OS_DEBUG: bool("OS_DEBUG", false),
  CTS_TRACKER: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? "system" : value.trim())),
  CTS_FROM: int("CTS_FROM", { min: 1, max: 10080, fallback: 5 }),
  CTS_OVERLAP_MINUTES: int("CTS_OVERLAP_MINUTES", { min: 0, max: 1440, fallback: 10 }),
  CTS_POLL_INTERVAL_SECONDS: int("CTS_POLL_INTERVAL_SECONDS", {
    min: 0,
    max: 604_800,
    fallback: 0,
  }),
  CTS_X_PNP: bool("CTS_X_PNP", true),
  K_SINK: z.string().optional(),
  K_CE_OVERRIDES: z.string().optional(),
  K_CA_CERTS: z.string().optional(),
  CTS_OIDC_TOKEN_FILE: z.string().optional(),
  CTS_ENDPOINT: z.string().optional(),
  CTS_STATE_FILE: z.string().optional(),
  CTS_DEAD_LETTER_FILE: z.string().optional(),
  CTS_PROJECTS: z.string().optional(),
  PORT: int("PORT", { min: 0, max: 65535, fallback: 8080 }),
  SINK_MODE: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const mode =
        value === undefined || value.trim() === "" ? "binary" : value.trim().toLowerCase();
      if (mode === "binary" || mode === "structured" || mode === "batch") return mode;
      ctx.addIssue({
        code: "custom",
        message: `SINK_MODE must be binary, structured or batch, got "${value}"`,
      });
      return z.NEVER;
    }),
  SINK_CONCURRENCY: int("SINK_CONCURRENCY", { min: 1, max: 256, fallback: 16 }),
  SINK_BATCH_SIZE: int("SINK_BATCH_SIZE", { min: 1, max: 5000, fallback: 200 }),
  K_SINK_TIMEOUT: int("K_SINK_TIMEOUT", { min: 1, max: 600, fallback: 30 }),
  SINK_RETRY_ATTEMPTS: int("SINK_RETRY_ATTEMPTS", { min: 1, max: 100, fallback: 8 }),
  SINK_RETRY_BASE_MS: int("SINK_RETRY_BASE_MS", { min: 1, max: 60_000, fallback: 500 }),
  SINK_RETRY_MAX_MS: int("SINK_RETRY_MAX_MS", { min: 1, max: 600_000, fallback: 30_000 }),
});

function parseFlags(argv: readonly string[]): {
  once: boolean;
  dryRun: boolean;
  from: string | undefined;
} {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        once: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        from: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    return { once: values.once, dryRun: values["dry-run"], from: values.from };
  } catch (error) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `invalid command line: ${error instanceof Error ? error.message : String(error)}; ` +
        "usage: cts_exporter [--once] [--dry-run] [--from MINUTES]",
    );
  }
}

function parseSink(raw: string | undefined, problems: string[]): URL | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    const url = new URL(raw.trim());
    if (url.protocol === "http:" || url.protocol === "https:") return url;
    problems.push(`K_SINK must be an http or https URL, got "${raw}"`);
  } catch {
    problems.push(`K_SINK is not a valid URL: "${raw}"`);
  }
  return undefined;
}

/** The message of what `parse` throws, added to `problems`; undefined then. */
function collecting<T>(parse: () => T, problems: string[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

/** A trimmed setting, undefined when empty. */
function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** CTS_PROJECTS: names or ids (each once), `all`, or undefined when none are named. */
function projectsFrom(raw: string | undefined): ExporterConfig["projects"] {
  const projectList = (raw ?? "")
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return projectList.length === 0
    ? undefined
    : projectList.length === 1 && projectList[0]?.toLowerCase() === "all"
      ? "all"
      : [...new Set(projectList)];
}

/**
 * Every setting checked, every problem collected: the settings, or one CONFIG_INVALID error
 * listing the problems one per line.
 */
function validate(env: Env, flags: ReturnType<typeof parseFlags>) {
  const merged = { ...env, ...(flags.from === undefined ? {} : { CTS_FROM: flags.from }) };
  const parsed = EnvSchema.safeParse(merged);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(
        issue.code === "custom" ? issue.message : `${issue.path.join(".")}: ${issue.message}`,
      );
    }
  }
  const overrides = collecting(() => parseCeOverrides(env["K_CE_OVERRIDES"]), problems) ?? {};
  const sink = parseSink(env["K_SINK"], problems);
  const push = parsed.success ? parsed.data.CTS_X_PNP : true;
  if (
    push &&
    !flags.dryRun &&
    sink === undefined &&
    !problems.some((p) => p.startsWith("K_SINK"))
  ) {
    problems.push(
      "K_SINK is required to push events (Knative injects it); set CTS_X_PNP=false or use --dry-run to only collect",
    );
  }
  const caCerts = env["K_CA_CERTS"]?.trim();
  if (caCerts !== undefined && caCerts !== "" && !caCerts.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push("K_CA_CERTS must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
  }
  const ctsEndpoint = collecting(() => parseCtsEndpoint(env["CTS_ENDPOINT"]), problems);
  if (problems.length > 0 || !parsed.success) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration:\n- ${problems.join("\n- ")}`,
      {
        details: { problems },
      },
    );
  }
  return { data: parsed.data, overrides, sink, push, caCerts: nonEmpty(caCerts), ctsEndpoint };
}

/**
 * Validates environment and flags; throws one CONFIG_INVALID error listing every problem, one
 * per line, so an operator fixes them all in one go.
 */
export function parseExporterConfig(env: Env, argv: readonly string[]): ExporterConfig {
  const flags = parseFlags(argv);
  const { data, overrides, sink, push, caCerts, ctsEndpoint } = validate(env, flags);
  return {
    once: flags.once,
    dryRun: flags.dryRun,
    debug: data.OS_DEBUG,
    tracker: data.CTS_TRACKER,
    fromMinutes: data.CTS_FROM,
    overlapMinutes: data.CTS_OVERLAP_MINUTES,
    pollIntervalSeconds:
      data.CTS_POLL_INTERVAL_SECONDS === 0 ? undefined : data.CTS_POLL_INTERVAL_SECONDS,
    push,
    sink,
    overrides,
    caCerts,
    oidcTokenFile: nonEmpty(data.CTS_OIDC_TOKEN_FILE) ?? DEFAULT_OIDC_TOKEN_FILE,
    ctsEndpoint,
    stateFile: nonEmpty(data.CTS_STATE_FILE),
    deadLetterFile: nonEmpty(data.CTS_DEAD_LETTER_FILE),
    projects: projectsFrom(data.CTS_PROJECTS),
    port: data.PORT,
    mode: data.SINK_MODE,
    concurrency: data.SINK_CONCURRENCY,
    batchSize: data.SINK_MODE === "batch" ? data.SINK_BATCH_SIZE : 1,
    sinkTimeoutMs: data.K_SINK_TIMEOUT * 1000,
    retryAttempts: data.SINK_RETRY_ATTEMPTS,
    retryBaseMs: data.SINK_RETRY_BASE_MS,
    retryMaxMs: data.SINK_RETRY_MAX_MS,
  };
}
