/**
 * The images without Docker: each Dockerfile's build stage is run here (its COPY lines on the
 * .dockerignore-filtered context, its RUN lines in a scratch folder standing for the image),
 * the final stage's COPY --from takes the deployed folder, and its CMD is started from there
 * with the final stage's ENV and nothing else. That proves the production folder resolves its
 * modules on its own, with no workspace, sources or dev dependencies around it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeCommand, runCommand } from "@cts/devkit";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { emulateImage, listTree, type EmulatedImage } from "./docker-emulator.js";
import { parseDockerIgnore, readDockerfile } from "./dockerfile.js";
import { REPO_ROOT } from "./kustomize-lite.js";

const ignore = parseDockerIgnore(readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8"));
const scratch = mkdtempSync(join(tmpdir(), "cts-image-"));

/**
 * What RUN lines get from this machine: its PATH (pnpm, node), HOME (pnpm's store and metadata
 * cache) and its network settings, but not the settings of this test run. `NODE_EXTRA_CA_CERTS`
 * in particular must pass: where the registry is reached through a TLS-inspecting proxy, pnpm
 * needs it to fetch package metadata, and `pnpm deploy --legacy` resolves the deployed package's
 * dependencies from the registry (not from the lockfile). Without it, on a machine whose pnpm
 * metadata cache is cold (a fresh CI machine), pnpm waited forever instead of failing.
 */
const RUN_OWN_SETTINGS =
  /^(npm_|pnpm_|NODE_(OPTIONS|ENV|TEST_CONTEXT|V8_COVERAGE|CHANNEL_FD|CHANNEL_SERIALIZATION_MODE|UNIQUE_ID)$)/i;
function machineEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(from)) {
    if (value !== undefined && !RUN_OWN_SETTINGS.test(key)) env[key] = value;
  }
  return env;
}

/** A Dockerfile RUN line (pnpm install, build, deploy) may take this long; a cold store needs most. */
const RUN_LINE_TIMEOUT_MS = 5 * 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the image's CMD in its WORKDIR with only the image's ENV plus `extra`. */
function runCmd(image: EmulatedImage, options: { args?: string[]; env?: Record<string, string> }) {
  const [program, ...args] = image.cmd ?? [];
  assert.equal(program, "node", "the image's CMD runs node");
  return new Promise<Run>((done, fail) => {
    const child = spawn(process.execPath, [...args, ...(options.args ?? [])], {
      cwd: image.appDir,
      env: {
        PATH: dirname(process.execPath),
        HOME: join(scratch, "home"),
        ...image.env,
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 60_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (killed) {
        const command = describeCommand("node", [...args, ...(options.args ?? [])]);
        fail(
          new Error(
            `${command} (in ${image.appDir}) ran over 60 s and was killed:\n${stdout}${stderr}`,
          ),
        );
        return;
      }
      done({ code, stdout, stderr });
    });
  });
}

test("RUN lines get the machine's network settings, not the test run's own", () => {
  const env = machineEnv({
    PATH: "/usr/bin",
    HOME: "/root",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
    HTTPS_PROXY: "http://127.0.0.1:3128",
    NODE_TEST_CONTEXT: "child-v8",
    NODE_OPTIONS: "--import tsx",
    npm_config_user_agent: "pnpm/10",
    pnpm_config_verify_deps_before_run: "false",
  });
  assert.deepEqual(env, {
    PATH: "/usr/bin",
    HOME: "/root",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
    HTTPS_PROXY: "http://127.0.0.1:3128",
  });
});

const images = new Map<string, EmulatedImage>();
function image(dir: string): EmulatedImage {
  const built = images.get(dir);
  assert.ok(built, `${dir} image was not built`);
  return built;
}

describe(
  "the images' production folders, built as the Dockerfiles do",
  { timeout: 600_000 },
  () => {
    before(() => {
      for (const dir of ["cts_exporter", "neo4j_sink"]) {
        images.set(
          dir,
          emulateImage({
            dockerfile: readDockerfile(join(REPO_ROOT, dir, "Dockerfile")),
            contextDir: REPO_ROOT,
            ignore,
            scratchDir: join(scratch, dir),
            baseEnv: machineEnv(),
            runTimeoutMs: RUN_LINE_TIMEOUT_MS,
          }),
        );
      }
    });
    after(() => {
      rmSync(scratch, { recursive: true, force: true });
    });

    for (const dir of ["cts_exporter", "neo4j_sink"]) {
      test(`${dir}: the emulation skipped only installing pnpm and trimming the base image`, () => {
        const built = image(dir);
        assert.deepEqual(
          built.skipped.map((entry) => entry.split(" ").slice(0, 4).join(" ")),
          ["RUN npm install --global", "final stage RUN rm"],
        );
        // It used this machine's pnpm instead of the image's: they must be the same version.
        const pinned = (
          JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
            packageManager: string;
          }
        ).packageManager;
        assert.equal(
          `pnpm@${runCommand("pnpm", ["--version"], { timeoutMs: 30_000 }).trim()}`,
          pinned,
        );
      });

      test(`${dir}: compiled code and production dependencies only`, () => {
        const built = image(dir);
        assert.deepEqual(
          built.env,
          dir === "cts_exporter"
            ? {
                NODE_ENV: "production",
                NODE_OPTIONS: "--max-semi-space-size=8 --max-old-space-size=192",
              }
            : { NODE_ENV: "production" },
        );
        const tree = listTree(built.appDir);
        assert.ok(tree.includes("dist/main.js"), "dist/main.js");
        assert.ok(tree.includes("package.json"), "package.json");
        const outside = tree.filter((path) => !path.startsWith("node_modules/"));
        assert.deepEqual(
          outside.filter((path) => /(^|\/)src(\/|$)|(?<!\.d)\.ts$|tsconfig|\.test\./.test(path)),
          [],
        );
        // Exactly the package's dependencies at the top: none of its devDependencies.
        const manifest = JSON.parse(readFileSync(join(REPO_ROOT, dir, "package.json"), "utf8")) as {
          dependencies: Record<string, string>;
          devDependencies: Record<string, string>;
        };
        const top = tree
          .filter((path) => /^node_modules\/(@[^/]+\/)?[^/@.][^/]*$/.test(path))
          .map((path) => path.slice("node_modules/".length))
          .filter((name) => !name.startsWith("@") || name.includes("/"));
        assert.deepEqual(top.sort(), Object.keys(manifest.dependencies).sort());
        assert.ok(Object.keys(manifest.devDependencies).length > 0);
        // @cts/shared is copied in, compiled, not linked to the workspace.
        const shared = realpathSync(join(built.appDir, "node_modules/@cts/shared"));
        assert.ok(shared.startsWith(realpathSync(built.appDir)), shared);
        const sharedTree = listTree(shared);
        assert.ok(sharedTree.includes("dist/index.js"));
        assert.equal(
          sharedTree.some((path) => path.startsWith("src")),
          false,
        );
      });

      test(`${dir}: every link stays inside the folder and every file is readable by uid 1000`, () => {
        const built = image(dir);
        const root = realpathSync(built.appDir);
        let links = 0;
        for (const path of listTree(built.appDir)) {
          const full = join(built.appDir, path);
          const stats = lstatSync(full);
          if (stats.isSymbolicLink()) {
            links++;
            // COPY --from keeps links as they are; one pointing into /build would dangle.
            const target = readlinkSync(full);
            assert.equal(target.startsWith("/"), false, `${path} -> ${target}`);
            assert.ok(
              resolve(dirname(full), target).startsWith(built.appDir),
              `${path} -> ${target}`,
            );
            assert.ok(realpathSync(full).startsWith(root), path);
          } else {
            // Owned by root in the image: the service reads through the "other" bits.
            const needed = stats.isDirectory() ? 0o005 : 0o004;
            assert.equal(
              stats.mode & needed,
              needed,
              `${path} mode ${(stats.mode & 0o777).toString(8)}`,
            );
          }
        }
        assert.ok(links > 0, "pnpm's node_modules links its packages");
      });
    }

    test("cts_exporter starts from the folder: exit 78 without K_SINK, as the contract says", async () => {
      const run = await runCmd(image("cts_exporter"), {});
      assert.equal(run.code, 78, run.stdout + run.stderr);
      assert.match(run.stdout, /K_SINK is required/);
    });

    describe("cts_exporter runs a real cycle from the folder", () => {
      let sim: Simulator;
      before(async () => {
        sim = await startSimulator({ seed: 11 });
      });
      after(async () => {
        await sim.close();
      });

      test("--once --dry-run against the OTC simulator prints the trace as a CloudEvent", async () => {
        const time = Date.now() - 60_000;
        sim.addTraces([
          {
            trace_id: "image-smoke-1",
            trace_name: "deleteServer",
            trace_rating: "warning",
            trace_type: "ApiCall",
            service_type: "ECS",
            resource_type: "server",
            resource_name: "srv-image",
            resource_id: "id-image",
            source_ip: "192.0.2.9",
            code: "204",
            time,
            record_time: time + 500,
            user: { id: "u-1", name: "alice", domain: { id: sim.domainId, name: "OTC-TEST" } },
          },
        ]);
        const clouds = join(scratch, "clouds.yaml");
        writeFileSync(clouds, sim.cloudsYaml({ cloud: "sim" }));
        const run = await runCmd(image("cts_exporter"), {
          args: ["--once", "--dry-run"],
          env: { OS_CLIENT_CONFIG_FILE: clouds, OS_CLOUD: "sim", CTS_FROM: "5" },
        });
        assert.equal(run.code, 0, run.stderr);
        const events = run.stdout
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        const event = events.find((candidate) => candidate["id"] === "image-smoke-1");
        assert.ok(event, run.stdout);
        assert.equal(event["type"], "ecs.apicall.server.deleteserver");
        assert.equal(event["status"], "warning");
      });
    });

    test("neo4j_sink starts from the folder: exit 78 without NEO4J_PASSWORD", async () => {
      const run = await runCmd(image("neo4j_sink"), {});
      assert.equal(run.code, 78, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /NEO4J_PASSWORD/);
    });

    test("neo4j_sink loads its driver and server: exit 69 when Neo4j is unreachable", async () => {
      const run = await runCmd(image("neo4j_sink"), {
        env: {
          NEO4J_URI: "bolt://127.0.0.1:1",
          NEO4J_PASSWORD: "unused",
          PORT: "0",
          SINK_STARTUP_TIMEOUT_SECONDS: "0",
        },
      });
      assert.equal(run.code, 69, run.stdout + run.stderr);
    });
  },
);
