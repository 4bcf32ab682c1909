import { parseInstant } from "./duration.js";

/** What `pnpm detect` was asked to do. */
export interface DetectArgs {
  readonly help: boolean;
  readonly since: Date;
  readonly until: Date;
  /** Rule ids to run; empty = all. */
  readonly rules: readonly string[];
  readonly format: "table" | "json";
  /** Parameter overrides, applied to the rules that declare them. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly emit: boolean;
  readonly stateFile: string | undefined;
}

/** A bad command line: exit 78 with this message. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const USAGE = `Usage: pnpm detect [options]

Runs the detection rules in detections/rules against the Neo4j of NEO4J_URI (NEO4J_USER,
NEO4J_PASSWORD, NEO4J_DATABASE, as the sink) and prints what they found.

  --since WHEN        start of the window: a duration before now (30m, 24h, 7d, 2w) or an
                      ISO 8601 date or instant (2026-12-01, 2026-12-01T08:00:00Z); default 24h
  --until WHEN        end of the window (exclusive), same forms; default now
  --rule ID           run only this rule (repeatable)
  --param NAME=VALUE  override a rule parameter (repeatable); VALUE is JSON (10, true,
                      ["admin"]) or else text
  --format FORMAT     table (default) or json
  --emit              post each finding not posted before as a CloudEvent to K_SINK
  --state-file PATH   where --emit remembers what it posted
                      (default DETECT_STATE_FILE, else .state/detections-emitted.json)
  --help              this text

Exit codes: 0 nothing found, 3 findings, 78 bad arguments or configuration (or credentials
Neo4j rejects), 69 Neo4j unreachable, 70 a rule failed, 75 --emit could not post every finding.`;

const DEFAULT_SINCE = "24h";

function valueOf(flag: string, value: string | undefined): string {
  if (value === undefined || value.startsWith("--")) {
    throw new UsageError(`${flag} needs a value (see --help)`);
  }
  return value;
}

function instant(flag: string, text: string, now: number): Date {
  const ms = parseInstant(text, now);
  if (ms === undefined) {
    throw new UsageError(
      `${flag} "${text}" is neither a duration (30m, 24h, 7d) nor an ISO 8601 date or instant`,
    );
  }
  return new Date(ms);
}

function parameter(text: string): [string, unknown] {
  const at = text.indexOf("=");
  const name = at > 0 ? text.slice(0, at) : "";
  if (!/^[a-z][A-Za-z0-9]*$/.test(name)) {
    throw new UsageError(`--param "${text}" is not NAME=VALUE with a rule parameter's name`);
  }
  const raw = text.slice(at + 1);
  try {
    return [name, JSON.parse(raw) as unknown];
  } catch {
    return [name, raw];
  }
}

/** Parses the command line (without node and the script). Throws UsageError. */
export function parseDetectArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
): DetectArgs {
  let since = DEFAULT_SINCE;
  let until: string | undefined;
  let format: DetectArgs["format"] = "table";
  let emit = false;
  let help = false;
  let stateFile = env["DETECT_STATE_FILE"];
  const rules: string[] = [];
  const parameters: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=") && !arg.startsWith("--param=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const next = () => inline ?? valueOf(flag, argv[++i]);
    switch (flag) {
      case "--since":
        since = next();
        break;
      case "--until":
        until = next();
        break;
      case "--rule":
        rules.push(next());
        break;
      case "--param": {
        const [name, value] = parameter(next());
        parameters[name] = value;
        break;
      }
      case "--format": {
        const value = next();
        if (value !== "table" && value !== "json") {
          throw new UsageError(`--format "${value}" is not one of table, json`);
        }
        format = value;
        break;
      }
      case "--emit":
        emit = true;
        break;
      case "--state-file":
        stateFile = next();
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new UsageError(`unknown argument "${arg}" (see --help)`);
    }
  }
  const untilDate = until === undefined ? new Date(now) : instant("--until", until, now);
  const sinceDate = instant("--since", since, now);
  if (sinceDate.getTime() >= untilDate.getTime()) {
    throw new UsageError(
      `--since (${sinceDate.toISOString()}) must be before --until (${untilDate.toISOString()})`,
    );
  }
  return {
    help,
    since: sinceDate,
    until: untilDate,
    rules,
    format,
    parameters,
    emit,
    stateFile,
  };
}
