/**
 * What the two service Dockerfiles must be, as checks that return problems (so a test can show
 * each one firing on a modified copy): a pinned Node base shared by both stages, the project's
 * pnpm, a frozen install, a build and `pnpm deploy --prod` of exactly that service, and a
 * final stage holding only the deployed folder, run as a non-root uid with NODE_ENV=production
 * and `node dist/main.js`, without HEALTHCHECK.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  execForm,
  parseCopy,
  parseEnv,
  type DockerIgnore,
  type Dockerfile,
  type Stage,
} from "./dockerfile.js";

export interface ImageExpectation {
  /** The workspace package, e.g. `@cts/cts_exporter`. */
  readonly packageName: string;
  /** Node version the tests run on (scripts/toolchain.sh). */
  readonly nodeVersion: string;
  /** pnpm version of package.json's packageManager. */
  readonly pnpmVersion: string;
  /** Folders of the workspace packages (pnpm-workspace.yaml). */
  readonly workspacePackages: readonly string[];
  /** The port the service listens on by default. */
  readonly port: number;
  readonly repoRoot: string;
  readonly ignore: DockerIgnore;
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
}

export function dockerfileProblems(file: Dockerfile, expect: ImageExpectation): string[] {
  const problems: string[] = [];
  const [build, ...rest] = file.stages;
  const runtime = rest.at(-1);
  if (build === undefined || runtime === undefined) return ["needs a build and a final stage"];

  const base = `node:${expect.nodeVersion}-bookworm-slim`;
  for (const stage of file.stages) {
    if (!stage.from.startsWith(`${base}@`) || !DIGEST.test(stage.from)) {
      problems.push(
        `stage ${stage.name ?? "?"} is FROM ${stage.from}, not ${base}@sha256:<digest>`,
      );
    }
  }
  if (new Set(file.stages.map((stage) => stage.from)).size !== 1) {
    problems.push("the stages use different base images");
  }
  for (const instruction of file.all) {
    if (instruction.keyword === "HEALTHCHECK") {
      problems.push(`line ${instruction.line}: HEALTHCHECK (Kubernetes and Knative probe instead)`);
    }
    if (instruction.keyword === "ADD") problems.push(`line ${instruction.line}: ADD (use COPY)`);
  }

  const buildRuns = runs(build);
  const pnpm = buildRuns.find((run) => /npm install --global .*\bpnpm@/.test(run));
  const pinned = /\bpnpm@(\S+)/.exec(pnpm ?? "")?.[1];
  if (pinned !== expect.pnpmVersion) {
    problems.push(
      `the build installs pnpm ${pinned ?? "(none)"}, package.json pins ${expect.pnpmVersion}`,
    );
  }
  const installAt = build.instructions.findIndex(
    (i) => i.keyword === "RUN" && /^pnpm install --frozen-lockfile\b/.test(i.args),
  );
  if (installAt < 0) problems.push("no `pnpm install --frozen-lockfile` in the build stage");
  const copiedBeforeInstall = build.instructions
    .slice(0, Math.max(installAt, 0))
    .filter((i) => i.keyword === "COPY")
    .flatMap((i) => {
      const copy = parseCopy(i.args);
      return copy.sources.map((source) =>
        copy.destination.endsWith("/") && copy.destination !== "./"
          ? `${copy.destination}${source.split("/").pop()!}`
          : source,
      );
    });
  for (const needed of [
    "package.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    ".npmrc",
    ...expect.workspacePackages.map((dir) => `${dir}/package.json`),
  ]) {
    // --frozen-lockfile compares the lockfile with every importer's manifest.
    if (!copiedBeforeInstall.includes(needed))
      problems.push(`${needed} is not copied before the install`);
  }
  for (const instruction of build.instructions.filter((i) => i.keyword === "ENV")) {
    if (parseEnv(instruction.args).some(([key]) => key === "NODE_ENV")) {
      problems.push("NODE_ENV in the build stage: the install would skip the build tools");
    }
  }
  const name = expect.packageName;
  if (!buildRuns.some((run) => run === `pnpm --filter-prod "${name}..." run build`)) {
    problems.push(`no \`pnpm --filter-prod "${name}..." run build\``);
  }
  const deploy = buildRuns
    .map((run) => new RegExp(`^pnpm --filter ${name} deploy --prod --legacy (\\S+)$`).exec(run))
    .find((match) => match !== null);
  if (deploy == null) problems.push(`no \`pnpm --filter ${name} deploy --prod --legacy <dir>\``);

  for (const instruction of build.instructions.filter((i) => i.keyword === "COPY")) {
    const copy = parseCopy(instruction.args);
    if (copy.from !== undefined) continue;
    for (const source of copy.sources) {
      const path = source.replace(/\/$/, "");
      if (!existsSync(join(expect.repoRoot, path))) problems.push(`COPY ${source}: no such file`);
      if (expect.ignore.excludes(path)) problems.push(`COPY ${source}: excluded by .dockerignore`);
    }
  }

  const env = new Map(
    runtime.instructions.filter((i) => i.keyword === "ENV").flatMap((i) => parseEnv(i.args)),
  );
  if (env.get("NODE_ENV") !== "production")
    problems.push("the final stage lacks NODE_ENV=production");
  for (const instruction of runtime.instructions.filter((i) => i.keyword === "COPY")) {
    const copy = parseCopy(instruction.args);
    if (copy.from !== build.name) {
      problems.push(
        `line ${instruction.line}: the final stage copies from ${copy.from ?? "the build context"}, not from the deploy folder`,
      );
    } else if (deploy != null && copy.sources.some((s) => s.replace(/\/$/, "") !== deploy[1])) {
      problems.push(`line ${instruction.line}: the final stage copies more than ${deploy[1]}`);
    }
  }
  const users = runtime.instructions.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args;
  const uid = /^(\d+)(?::(\d+))?$/.exec(user ?? "");
  if (uid === null || uid[1] === "0") {
    problems.push(`the final stage runs as ${user ?? "root"}; use a numeric non-root uid`);
  }
  const workdir = runtime.instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args;
  if (workdir === undefined) problems.push("the final stage sets no WORKDIR");
  const cmd = runtime.instructions.filter((i) => i.keyword === "CMD").at(-1);
  const argv = cmd === undefined ? undefined : execForm(cmd.args);
  if (JSON.stringify(argv) !== JSON.stringify(["node", "dist/main.js"])) {
    problems.push(`CMD is ${cmd?.args ?? "missing"}, not ["node", "dist/main.js"] in exec form`);
  }
  if (runtime.instructions.some((i) => i.keyword === "ENTRYPOINT")) {
    problems.push("an ENTRYPOINT would wrap the CMD");
  }
  const exposed = runtime.instructions.filter((i) => i.keyword === "EXPOSE").map((i) => i.args);
  if (!exposed.includes(String(expect.port))) problems.push(`EXPOSE ${expect.port} is missing`);
  return problems;
}
