import neo4j, { type Driver } from "neo4j-driver";
import { isAppError } from "@cts/shared";
import { parseDetectArgs, USAGE, UsageError, type DetectArgs } from "./cli-args.js";
import { runDetections, selectRules, undeclaredParameters } from "./detect.js";
import { emitFindings, readEmitState } from "./emit.js";
import { loadRules } from "./loader.js";
import { jsonReport, progressLine, tableReport } from "./report.js";

/** Exit codes (sysexits.h where one fits); documented in detections/README.md and --help. */
export const EXIT = {
  NOTHING_FOUND: 0,
  FINDINGS: 3,
  UNAVAILABLE: 69,
  RULE_FAILED: 70,
  EMIT_INCOMPLETE: 75,
  CONFIG: 78,
} as const;

const DEFAULT_STATE_FILE = ".state/detections-emitted.json";

class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

function neo4jSettings(env: NodeJS.ProcessEnv) {
  const password = env["NEO4J_PASSWORD"];
  if (password === undefined || password === "") {
    throw new ExitError(
      EXIT.CONFIG,
      "NEO4J_PASSWORD is not set: give the password of the Neo4j user (NEO4J_USER, default neo4j)",
    );
  }
  const uri = env["NEO4J_URI"] ?? "neo4j://localhost:7687";
  if (!/^(neo4j|bolt)(\+s|\+ssc)?:\/\/[^/]+/.test(uri)) {
    throw new ExitError(EXIT.CONFIG, `NEO4J_URI "${uri}" is not a neo4j:// or bolt:// URI`);
  }
  const database = env["NEO4J_DATABASE"];
  return {
    uri,
    user: env["NEO4J_USER"] ?? "neo4j",
    password,
    database: database === "" ? undefined : database,
  };
}

function emitTarget(args: DetectArgs, env: NodeJS.ProcessEnv) {
  const sink = env["K_SINK"];
  if (sink === undefined || sink === "") {
    throw new ExitError(EXIT.CONFIG, "--emit needs K_SINK, the URL to post the findings to");
  }
  let url: URL;
  try {
    url = new URL(sink);
  } catch {
    throw new ExitError(EXIT.CONFIG, `K_SINK "${sink}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ExitError(EXIT.CONFIG, `K_SINK "${sink}" is not an http or https URL`);
  }
  return { sink: url.toString(), stateFile: args.stateFile ?? DEFAULT_STATE_FILE };
}

async function connect(settings: ReturnType<typeof neo4jSettings>): Promise<Driver> {
  const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password), {
    logging: { level: "error", logger: () => undefined },
    connectionAcquisitionTimeout: 15_000,
  });
  try {
    await driver.verifyConnectivity(
      settings.database === undefined ? {} : { database: settings.database },
    );
    return driver;
  } catch (error) {
    await driver.close();
    const code = (error as { code?: string }).code ?? "";
    if (code.startsWith("Neo.ClientError.Security.")) {
      throw new ExitError(
        EXIT.CONFIG,
        `Neo4j at ${settings.uri} rejected the credentials of user ${settings.user}: check NEO4J_USER and NEO4J_PASSWORD`,
      );
    }
    throw new ExitError(
      EXIT.UNAVAILABLE,
      `Neo4j at ${settings.uri} is unreachable (${(error as Error).message.split("\n")[0] ?? ""}): check NEO4J_URI and that the server runs`,
    );
  }
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args: DetectArgs;
  try {
    args = parseDetectArgs(argv, env, Date.now());
  } catch (error) {
    if (error instanceof UsageError) throw new ExitError(EXIT.CONFIG, error.message);
    throw error;
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT.NOTHING_FOUND;
  }
  let rules;
  try {
    rules = loadRules();
  } catch (error) {
    throw new ExitError(EXIT.CONFIG, isAppError(error) ? error.message : String(error));
  }
  const { selected, unknown } = selectRules(rules, args.rules);
  if (unknown.length > 0) {
    throw new ExitError(
      EXIT.CONFIG,
      `unknown rule ${unknown.join(", ")}; the rules are listed in detections/README.md`,
    );
  }
  const undeclared = undeclaredParameters(selected, args.parameters);
  if (undeclared.length > 0) {
    throw new ExitError(
      EXIT.CONFIG,
      `--param ${undeclared.join(", ")}: no selected rule has such a parameter`,
    );
  }
  const target = args.emit ? emitTarget(args, env) : undefined;
  // A damaged state file is reported before any work, not after the rules ran.
  if (target !== undefined) readEmitState(target.stateFile);
  const settings = neo4jSettings(env);
  const driver = await connect(settings);
  try {
    console.error(
      `detect: ${selected.length} rules over [${args.since.toISOString()}, ${args.until.toISOString()}) on ${settings.uri}`,
    );
    let outcomes;
    try {
      outcomes = await runDetections(driver, selected, {
        window: { since: args.since, until: args.until },
        parameters: args.parameters,
        ...(settings.database === undefined ? {} : { database: settings.database }),
        onRule: (outcome, index) => {
          console.error(progressLine(index + 1, selected.length, outcome));
        },
      });
    } catch (error) {
      throw new ExitError(EXIT.RULE_FAILED, `a rule failed: ${(error as Error).message}`);
    }
    console.log(args.format === "json" ? jsonReport(outcomes, args) : tableReport(outcomes));
    const findings = outcomes.flatMap((o) => o.findings);
    if (target !== undefined) {
      const result = await emitFindings(findings, target);
      console.error(
        `detect: emitted ${result.posted} new finding(s) to ${target.sink}, ${result.skipped} already emitted, ${result.failed.length} failed (state: ${target.stateFile})`,
      );
      for (const failure of result.failed) {
        console.error(`detect: could not emit ${failure.identity}: ${failure.reason}`);
      }
      if (result.failed.length > 0) return EXIT.EMIT_INCOMPLETE;
    }
    return findings.length > 0 ? EXIT.FINDINGS : EXIT.NOTHING_FOUND;
  } finally {
    await driver.close();
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ExitError) {
      console.error(`detect: ${error.message}`);
      process.exitCode = error.exitCode;
      return;
    }
    if (isAppError(error) && error.code === "CONFIG_INVALID") {
      console.error(`detect: ${error.message}`);
      process.exitCode = EXIT.CONFIG;
      return;
    }
    console.error(
      `detect: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = EXIT.RULE_FAILED;
  },
);
