import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseExporterConfig, searchPaths } from "@cts/cts_exporter";
import { sinkConfigFromEnv } from "@cts/neo4j_sink";
import { ErrorCode } from "@cts/shared";
import { readCodeFacts } from "./code-facts.js";
import {
  buildVariant,
  CONFIG_DIR,
  containersOf,
  imageBaseName,
  isObject,
  podSpecOf,
  REPO_ROOT,
  type Resource,
  type YamlObject,
  variantBuilds,
} from "./kustomize-lite.js";
import { checkManifestsAgainstCode, type ServiceCode } from "./manifest-checks.js";
import { readmeCommands } from "./readme-commands.js";

const exporterFacts = readCodeFacts(join(REPO_ROOT, "cts_exporter", "src"));
const sinkFacts = readCodeFacts(join(REPO_ROOT, "neo4j_sink", "src"));

const SERVICES: ServiceCode[] = [
  {
    image: "cts-exporter",
    name: "cts_exporter",
    facts: exporterFacts,
    // The SinkBinding (also a ContainerSource's) always sets these two.
    platformEnv: () => ({
      K_SINK: "http://neo4j-sink.example.svc.cluster.local",
      K_CE_OVERRIDES: "",
    }),
    listenPort: (env) => parseExporterConfig(env, []).port,
  },
  {
    image: "neo4j-sink",
    name: "neo4j_sink",
    facts: sinkFacts,
    // Knative Serving's runtime contract: PORT is the container port, 8080 when none is named.
    platformEnv: (_workload, container) => {
      const [port] = Array.isArray(container["ports"]) ? (container["ports"] as YamlObject[]) : [];
      return {
        PORT: String((port?.["containerPort"] as number | undefined) ?? 8080),
        K_SERVICE: "neo4j-sink",
        K_CONFIGURATION: "neo4j-sink",
        K_REVISION: "neo4j-sink-00001",
      };
    },
    listenPort: (env) => sinkConfigFromEnv(env).port,
  },
];

const README = readFileSync(join(CONFIG_DIR, "README.md"), "utf8");
const commands = readmeCommands(README);

const builds = variantBuilds;
const build = buildVariant;

function check(resources: readonly Resource[]): string[] {
  return checkManifestsAgainstCode(resources, SERVICES, commands.secrets);
}

function containerOf(resources: Resource[], image: string): YamlObject {
  const container = resources
    .flatMap(({ doc }) => containersOf(doc))
    .find((candidate) => imageBaseName(String(candidate["image"])) === image);
  assert.ok(container, `no ${image} container`);
  return container;
}

function envEntry(container: YamlObject, name: string): YamlObject {
  const entry = (container["env"] as YamlObject[]).find((variable) => variable["name"] === name);
  assert.ok(entry, `no env ${name}`);
  return entry;
}

describe("what the code reads, found by reading it", () => {
  test("the exporter's environment: its config schema, the clouds.yaml loader, the run loop", () => {
    for (const name of [
      "OS_CLOUD",
      "OS_CLIENT_CONFIG_FILE",
      "OS_CLIENT_SECURE_FILE",
      "OS_DEBUG",
      "CTS_TRACKER",
      "CTS_FROM",
      "CTS_OVERLAP_MINUTES",
      "CTS_X_PNP",
      "K_SINK",
      "K_CE_OVERRIDES",
      "K_CA_CERTS",
      "K_SINK_TIMEOUT",
      "CTS_ENDPOINT",
      "CTS_STATE_FILE",
      "CTS_DEAD_LETTER_FILE",
      "CTS_PROJECTS",
      "CTS_POLL_INTERVAL_SECONDS",
      "PORT",
      "SINK_MODE",
      "OS_AUTH_URL",
    ]) {
      assert.ok(exporterFacts.envNames.has(name), `cts_exporter should read ${name}`);
    }
  });

  test("the sink's environment", () => {
    for (const name of ["NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "PORT"]) {
      assert.ok(sinkFacts.envNames.has(name), `neo4j_sink should read ${name}`);
    }
  });

  test("only variable names are taken: no error code or other constant slips in", () => {
    for (const facts of [exporterFacts, sinkFacts]) {
      for (const code of Object.values(ErrorCode)) assert.equal(facts.envNames.has(code), false);
      for (const name of facts.envNames) assert.match(name, /^[A-Z][A-Z0-9_]*$/);
    }
  });

  test("the routes both services serve", () => {
    for (const facts of [exporterFacts, sinkFacts]) {
      assert.deepEqual([...facts.routes].sort(), ["/healthz", "/metrics", "/readyz"]);
    }
  });
});

describe("manifests against the code", () => {
  test("every variant: env names, values, secret keys, files, ports and probes agree", () => {
    for (const [variant, resources] of builds) {
      assert.deepEqual(check(resources), [], `config/${variant}`);
    }
  });

  test("the check is not vacuous: each variant's service containers are found", () => {
    const expected: Record<string, string[]> = {
      base: [],
      sink: ["neo4j-sink"],
      "exporter-containersource": ["cts-exporter"],
      "exporter-deployment": ["cts-exporter"],
      "exporter-multiproject": ["cts-exporter"],
      "event-display": ["cts-exporter"],
      broker: ["cts-exporter"],
    };
    for (const [variant, resources] of builds) {
      const images = resources
        .flatMap(({ doc }) => containersOf(doc))
        .map((container) => imageBaseName(String(container["image"])))
        .filter((image) => SERVICES.some((service) => service.image === image));
      assert.deepEqual(images, expected[variant], variant);
    }
  });

  test("an env var the code does not read fails: CTS_FORM in the ConfigMap", () => {
    const resources = build("exporter-deployment");
    const configMap = resources.find(({ doc }) => doc["kind"] === "ConfigMap")!.doc;
    (configMap["data"] as YamlObject)["CTS_FORM"] = "5";
    assert.deepEqual(check(resources), [
      "config/base/exporter-config.yaml: ConfigMap cts-exporter-config (envFrom of " +
        "config/exporter-deployment/deployment.yaml: Deployment cts-exporter, container " +
        "cts-exporter): CTS_FORM is not an environment variable cts_exporter reads",
    ]);
  });

  test("an env var the code does not read fails: NEO4J_PASWORD in the sink's env", () => {
    const resources = build("sink");
    envEntry(containerOf(resources, "neo4j-sink"), "NEO4J_PASSWORD")["name"] = "NEO4J_PASWORD";
    const problems = check(resources);
    assert.ok(
      problems.includes(
        "config/sink/service.yaml: Service neo4j-sink, container neo4j-sink, env: " +
          "NEO4J_PASWORD is not an environment variable neo4j_sink reads",
      ),
      problems.join("\n"),
    );
    // Without NEO4J_PASSWORD the sink's own parser refuses to start, and says so.
    assert.ok(problems.some((problem) => problem.includes("neo4j_sink rejects this environment")));
  });

  test("a value the service rejects fails: CTS_FROM 0", () => {
    const resources = build("exporter-containersource");
    const configMap = resources.find(({ doc }) => doc["kind"] === "ConfigMap")!.doc;
    (configMap["data"] as YamlObject)["CTS_FROM"] = "0";
    const [problem, ...rest] = check(resources);
    assert.deepEqual(rest, []);
    assert.match(
      problem!,
      /cts_exporter rejects this environment: .*CTS_FROM must be a whole number/s,
    );
  });

  test("a probe path the service does not serve, or on another port, fails", () => {
    const resources = build("exporter-deployment");
    const container = containerOf(resources, "cts-exporter");
    const liveness = container["livenessProbe"] as { httpGet: YamlObject };
    liveness.httpGet["path"] = "/healthy";
    const readiness = container["readinessProbe"] as { httpGet: YamlObject };
    readiness.httpGet["port"] = 9090;
    const where =
      "config/exporter-deployment/deployment.yaml: Deployment cts-exporter, container cts-exporter";
    assert.deepEqual(check(resources), [
      `${where}, livenessProbe: cts_exporter serves no /healthy (it serves /healthz, /readyz, /metrics)`,
      `${where}, readinessProbe: probes port 9090 but cts_exporter listens on 8080`,
    ]);
  });

  test("secret keys no README command creates, and files outside a volume, fail", () => {
    const resources = build("exporter-deployment");
    const container = containerOf(resources, "cts-exporter");
    envEntry(container, "OS_CLIENT_CONFIG_FILE")["value"] = "/etc/openstack/cloud.yaml";
    envEntry(container, "CTS_STATE_FILE")["value"] = "/etc/openstack/state.json";
    const where =
      "config/exporter-deployment/deployment.yaml: Deployment cts-exporter, container cts-exporter";
    assert.deepEqual(check(resources), [
      `${where}, env OS_CLIENT_CONFIG_FILE: /etc/openstack/cloud.yaml needs key cloud.yaml in Secret cts-exporter-clouds, which the README does not create`,
      `${where}, env CTS_STATE_FILE: /etc/openstack/state.json needs key state.json in Secret cts-exporter-clouds, which the README does not create`,
      `${where}, env CTS_STATE_FILE: /etc/openstack/state.json is on a read-only mount`,
      `${where}, env CTS_STATE_FILE: the checkpoint needs an emptyDir or a PersistentVolumeClaim`,
    ]);

    const sink = build("sink");
    const user = envEntry(containerOf(sink, "neo4j-sink"), "NEO4J_USER");
    ((user["valueFrom"] as YamlObject)["secretKeyRef"] as YamlObject)["key"] = "username";
    assert.deepEqual(check(sink), [
      "config/sink/service.yaml: Service neo4j-sink, container neo4j-sink, env NEO4J_USER: Secret neo4j-sink-credentials key username is not created by any README command",
    ]);
  });

  test("the clouds Secret is mounted where the exporter looks for clouds.yaml and secure.yaml", () => {
    for (const variant of ["exporter-containersource", "exporter-deployment"]) {
      const resources = build(variant);
      const workload = resources.find(({ doc }) => podSpecOf(doc) !== undefined)!.doc;
      const volumes = podSpecOf(workload)!["volumes"] as YamlObject[];
      const clouds = volumes.find((volume) => isObject(volume["secret"]))!;
      const mount = (containerOf(resources, "cts-exporter")["volumeMounts"] as YamlObject[]).find(
        (candidate) => candidate["name"] === clouds["name"],
      )!;
      // secure.yaml is not named by any variable: the exporter's default search must find it.
      const searched = searchPaths("secure", { cwd: "/app", home: "/home/node" });
      assert.ok(searched.includes(`${String(mount["mountPath"])}/secure.yaml`), variant);
      assert.deepEqual(
        commands.secrets.get("cts-exporter-clouds"),
        new Set(["clouds.yaml", "secure.yaml"]),
      );
    }
  });
});

describe("config/README.md against the files", () => {
  test("every variant but base has its kubectl apply -k command, and every target exists", () => {
    const targets = [...commands.kustomizeTargets].map((target) => target.replace(/^config\//, ""));
    assert.deepEqual(
      new Set(targets),
      new Set([...builds.keys()].filter((variant) => variant !== "base")),
    );
  });

  test("the kustomize edit set image names are the manifests' placeholders", () => {
    const placeholders = new Set(
      [...builds.values()]
        .flat()
        .flatMap(({ doc }) => containersOf(doc))
        .map((container) => String(container["image"]))
        .filter((image) => !image.includes("/")),
    );
    assert.deepEqual(commands.imageNames, placeholders);
    assert.deepEqual(placeholders, new Set(SERVICES.map((service) => service.image)));
  });

  test("the docker build commands name the Dockerfiles that exist", () => {
    assert.deepEqual(
      commands.dockerfiles,
      new Set(["cts_exporter/Dockerfile", "neo4j_sink/Dockerfile"]),
    );
    for (const file of commands.dockerfiles) assert.ok(existsSync(join(REPO_ROOT, file)), file);
  });

  test("the Secret commands create the keys the manifests use, and only those Secrets", () => {
    assert.deepEqual(
      commands.secrets,
      new Map([
        ["cts-exporter-clouds", new Set(["clouds.yaml", "secure.yaml"])],
        ["neo4j-sink-credentials", new Set(["NEO4J_USER", "NEO4J_PASSWORD"])],
      ]),
    );
    // Keys named after the variables they feed, so each is one the sink reads.
    for (const key of commands.secrets.get("neo4j-sink-credentials")!) {
      assert.ok(sinkFacts.envNames.has(key), key);
    }
  });
});
