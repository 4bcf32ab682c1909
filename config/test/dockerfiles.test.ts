import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { load } from "js-yaml";
import { parseExporterConfig } from "@cts/cts_exporter";
import { sinkConfigFromEnv } from "@cts/neo4j_sink";
import { dockerfileProblems, type ImageExpectation } from "./dockerfile-checks.js";
import { parseDockerfile, parseDockerIgnore, readDockerfile } from "./dockerfile.js";
import { REPO_ROOT } from "./kustomize-lite.js";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

const rootPackage = JSON.parse(read("package.json")) as { packageManager: string };
const workspace = load(read("pnpm-workspace.yaml")) as { packages: string[] };
const nodeVersion = /local node_version="([\d.]+)"/.exec(read("scripts/toolchain.sh"))?.[1];
const ignore = parseDockerIgnore(read(".dockerignore"));

const IMAGES = [
  {
    dir: "cts_exporter",
    port: parseExporterConfig({ K_SINK: "http://sink.invalid" }, []).port,
  },
  { dir: "neo4j_sink", port: sinkConfigFromEnv({ NEO4J_PASSWORD: "x" }).port },
].map(({ dir, port }) => ({
  dir,
  expectation: {
    packageName: (JSON.parse(read(`${dir}/package.json`)) as { name: string }).name,
    nodeVersion: nodeVersion ?? "?",
    pnpmVersion: rootPackage.packageManager.replace(/^pnpm@/, ""),
    workspacePackages: workspace.packages,
    port,
    repoRoot: REPO_ROOT,
    ignore,
  } satisfies ImageExpectation,
}));

describe("the service Dockerfiles", () => {
  test("the versions they are held to come from the repository", () => {
    assert.match(nodeVersion ?? "", /^24\.\d+\.\d+$/);
    assert.equal(read(".nvmrc").trim(), nodeVersion!.split(".")[0]);
    assert.match(rootPackage.packageManager, /^pnpm@10\.\d+\.\d+$/);
    assert.deepEqual(
      IMAGES.map(({ expectation }) => expectation.packageName),
      ["@cts/cts_exporter", "@cts/neo4j_sink"],
    );
  });

  for (const { dir, expectation } of IMAGES) {
    test(`${dir}/Dockerfile: pinned base, frozen install, deploy --prod, non-root node dist/main.js`, () => {
      assert.deepEqual(
        dockerfileProblems(readDockerfile(join(REPO_ROOT, dir, "Dockerfile")), expectation),
        [],
      );
    });
  }

  test("the two Dockerfiles differ only in the service they build", () => {
    // Which service each builds is checked above; here, that nothing else drifts apart.
    const normalise = (dir: string) =>
      parseDockerfile(read(`${dir}/Dockerfile`))
        // LABELs name the service; the exporter alone sets V8 heap flags (NODE_OPTIONS), sized
        // for its small live set, which the sink's write queue would not fit.
        .all.filter((i) => i.keyword !== "LABEL" && !i.args.startsWith("NODE_OPTIONS="))
        .map((i) => `${i.keyword} ${i.args}`.replace(/cts_exporter|neo4j_sink/g, "<service>"));
    assert.deepEqual(normalise("cts_exporter"), normalise("neo4j_sink"));
  });

  const exporter = IMAGES[0]!;
  const original = read("cts_exporter/Dockerfile");
  const problemsOf = (text: string) =>
    dockerfileProblems(parseDockerfile(text, "modified"), exporter.expectation);

  test("a copy with a HEALTHCHECK, a root user or a shell-form CMD fails", () => {
    const modified = original
      .replace("USER 1000:1000", "USER root\nHEALTHCHECK CMD node -e 1")
      .replace('CMD ["node", "dist/main.js"]', "CMD node dist/main.js");
    assert.deepEqual(
      problemsOf(modified).map((problem) => problem.replace(/^line \d+: /, "")),
      [
        "HEALTHCHECK (Kubernetes and Knative probe instead)",
        "the final stage runs as root; use a numeric non-root uid",
        'CMD is node dist/main.js, not ["node", "dist/main.js"] in exec form',
      ],
    );
  });

  test("a copy with an unpinned base, another pnpm or the sources in the final stage fails", () => {
    const modified = original
      .replace(/^ARG NODE_IMAGE=.*$/m, "ARG NODE_IMAGE=node:24-bookworm-slim")
      .replace("pnpm@10.34.9", "pnpm@10.0.0")
      .replace("COPY --from=build /prod/cts_exporter/ ./", "COPY cts_exporter/ ./");
    assert.deepEqual(
      problemsOf(modified).map((problem) => problem.replace(/^line \d+: /, "")),
      [
        "stage build is FROM node:24-bookworm-slim, not node:24.21.0-bookworm-slim@sha256:<digest>",
        "stage runtime is FROM node:24-bookworm-slim, not node:24.21.0-bookworm-slim@sha256:<digest>",
        "the build installs pnpm 10.0.0, package.json pins 10.34.9",
        "the final stage copies from the build context, not from the deploy folder",
      ],
    );
  });

  test("a copy that skips a workspace manifest, sets NODE_ENV early or deploys with dev deps fails", () => {
    const modified = original
      .replace("COPY devkit/package.json devkit/\n", "ENV NODE_ENV=production\n")
      .replace("deploy --prod --legacy", "deploy --legacy");
    assert.deepEqual(problemsOf(modified), [
      "devkit/package.json is not copied before the install",
      "NODE_ENV in the build stage: the install would skip the build tools",
      "no `pnpm --filter @cts/cts_exporter deploy --prod --legacy <dir>`",
    ]);
  });
});

describe(".dockerignore", () => {
  test("lets in what the builds copy", () => {
    for (const path of [
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      ".npmrc",
      "tsconfig.base.json",
      "shared/package.json",
      "shared/src/index.ts",
      "shared/tsconfig.build.json",
      "cts_exporter/src/main.ts",
      "cts_exporter/src/cloud-config/clouds-files.ts",
      "neo4j_sink/src/main.ts",
      "otc_simulator/package.json",
      "devkit/package.json",
    ]) {
      assert.equal(ignore.excludes(path), false, path);
    }
  });

  test("keeps out credentials, state, dependencies, build output and everything else", () => {
    for (const path of [
      "clouds.yaml",
      "secure.yaml",
      "cts_exporter/clouds.yaml",
      "cts_exporter/src/clouds.yml",
      "neo4j_sink/.env",
      ".env.local",
      ".git/HEAD",
      ".toolchain/node-24/bin/node",
      ".neo4j/home/data/x",
      ".state/state.json",
      "node_modules/typescript/package.json",
      "shared/node_modules/zod/package.json",
      "cts_exporter/dist/main.js",
      "cts_exporter/test/e2e.test.ts",
      "cts_exporter/src/config.test.ts",
      "neo4j_sink/.scratch/notes.txt",
      "otc_simulator/src/cli.ts",
      "devkit/src/index.ts",
      "config/sink/service.yaml",
      "README.md",
      "clouds.tpl",
    ]) {
      assert.equal(ignore.excludes(path), true, path);
    }
  });

  test("the matcher follows Docker's rules: last match wins, parents count, ** spans folders", () => {
    const rules = parseDockerIgnore("*\n!keep\nkeep/secret\n!keep/secret/ok\n**/*.log\n");
    assert.equal(rules.excludes("other/file"), true);
    assert.equal(rules.excludes("keep/a/b.ts"), false);
    assert.equal(rules.excludes("keep/secret/x"), true);
    assert.equal(rules.excludes("keep/secret/ok/x"), false);
    assert.equal(rules.excludes("keep/a/b/debug.log"), true);
    assert.equal(rules.excludes("keep/x.log.txt"), false);
  });
});
