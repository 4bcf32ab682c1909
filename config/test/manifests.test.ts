import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { runCommand } from "@cts/devkit";
import { loadAll } from "js-yaml";
import {
  applyOperation,
  buildKustomization,
  buildVariant,
  CONFIG_DIR,
  containersOf,
  imageBaseName,
  isObject,
  podSpecOf,
  readYamlDocuments,
  REPO_ROOT,
  resourceId,
  type Resource,
  type YamlObject,
  variantBuilds,
} from "./kustomize-lite.js";
import { createManifestValidator, type ManifestValidator } from "./manifest-schemas.js";

const VARIANTS = [
  "base",
  "broker",
  "event-display",
  "exporter-containersource",
  "exporter-deployment",
  "exporter-multiproject",
  "sink",
];

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return entry === "test" ? [] : yamlFiles(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
}

const builds = variantBuilds;
const build = buildVariant;

function find(resources: Resource[], kind: string, name?: string): YamlObject {
  const found = resources.find(
    ({ doc }) =>
      doc["kind"] === kind &&
      (name === undefined || (doc["metadata"] as YamlObject | undefined)?.["name"] === name),
  );
  assert.ok(found, `no ${kind} ${name ?? ""}`);
  return found.doc;
}

describe("config/ manifests", () => {
  let validator: ManifestValidator;
  before(() => {
    validator = createManifestValidator();
  });

  test("the kustomize folders are the documented variants", () => {
    assert.deepEqual([...builds.keys()].sort(), VARIANTS);
  });

  test("every YAML file parses and every object names its apiVersion, kind and name", () => {
    const files = yamlFiles(CONFIG_DIR);
    assert.ok(files.length >= 15, `only ${files.length} YAML files`);
    for (const file of files) {
      const docs = readYamlDocuments(file);
      assert.ok(docs.length > 0, `${file} is empty`);
      for (const doc of docs) {
        assert.equal(typeof doc["apiVersion"], "string", file);
        assert.equal(typeof doc["kind"], "string", file);
        if (doc["kind"] !== "Kustomization") {
          assert.ok(isObject(doc["metadata"]) && typeof doc["metadata"]["name"] === "string", file);
        }
      }
    }
  });

  test("no manifest pins a namespace, so -n decides where everything goes", () => {
    for (const [variant, resources] of builds) {
      for (const { file, doc } of resources) {
        assert.equal(JSON.stringify(doc).includes('"namespace"'), false, `${variant}: ${file}`);
      }
    }
  });

  test("every object of every variant validates against its schema, unknown fields rejected", () => {
    let checked = 0;
    for (const [variant, resources] of builds) {
      for (const { file, doc } of resources) {
        assert.deepEqual(validator.validate(doc), [], `${variant}: ${file} ${resourceId(doc)}`);
        checked++;
      }
    }
    assert.ok(checked >= 15, `only ${checked} objects checked`);
  });

  test("a misspelt field fails: containerConcurency in the sink's Knative Service", () => {
    const service = find(build("sink"), "Service", "neo4j-sink");
    const spec = podSpecOf(service)!;
    spec["containerConcurency"] = spec["containerConcurrency"];
    delete spec["containerConcurrency"];
    assert.deepEqual(validator.validate(service), [
      '/spec/template/spec: unknown field "containerConcurency"',
    ]);
  });

  test("a misspelt field inside a ContainerSource's pod template fails (the CRD leaves it open)", () => {
    const source = find(build("exporter-containersource"), "ContainerSource");
    const [container] = containersOf(source);
    container!["readinesProbe"] = container!["readinessProbe"];
    const problems = validator.validate(source);
    assert.deepEqual(problems, ['/spec/template/spec/containers/0: unknown field "readinesProbe"']);
  });

  test("wrong types fail: an unquoted scale annotation, a number in a ConfigMap, a number extension", () => {
    const service = find(build("sink"), "Service", "neo4j-sink");
    const annotations = (service["spec"] as { template: { metadata: { annotations: YamlObject } } })
      .template.metadata.annotations;
    annotations["autoscaling.knative.dev/min-scale"] = 1;
    assert.deepEqual(validator.validate(service), [
      "/spec/template/metadata/annotations/autoscaling.knative.dev~1min-scale: must be string",
    ]);

    const configMap = find(build("base"), "ConfigMap");
    (configMap["data"] as YamlObject)["CTS_FROM"] = 5;
    assert.deepEqual(validator.validate(configMap), ["/data/CTS_FROM: must be string,null"]);

    const source = find(build("exporter-containersource"), "ContainerSource");
    (source["spec"] as YamlObject)["ceOverrides"] = { extensions: { origin: 42 } };
    assert.deepEqual(validator.validate(source), [
      "/spec/ceOverrides/extensions/origin: must be a string (quote it)",
    ]);
  });

  test("a misspelt sink field in a SinkBinding and a kind the tests have no schema for fail", () => {
    const binding = find(build("exporter-deployment"), "SinkBinding");
    const spec = binding["spec"] as YamlObject;
    spec["snk"] = spec["sink"];
    delete spec["sink"];
    assert.deepEqual(validator.validate(binding), ['/spec: unknown field "snk"']);
    assert.deepEqual(validator.validate({ apiVersion: "v1", kind: "Pod", metadata: {} }), [
      "/: no schema for v1/Pod; vendor one (schemas/README.md)",
    ]);
  });

  test("the multi-project variant is the Deployment polling every project (CTS_PROJECTS=all)", () => {
    const deployment = find(build("exporter-multiproject"), "Deployment", "cts-exporter");
    const spec = (deployment["spec"] as YamlObject)["template"] as YamlObject;
    const [container] = (spec["spec"] as YamlObject)["containers"] as YamlObject[];
    const env = (container?.["env"] ?? []) as YamlObject[];
    assert.deepEqual(
      env.find((entry) => entry["name"] === "CTS_PROJECTS"),
      { name: "CTS_PROJECTS", value: "all" },
    );
    assert.ok(
      env.some((entry) => entry["name"] === "CTS_STATE_FILE"),
      "one checkpoint file",
    );
  });

  test("the exporter Deployment polls with exactly one pod, replaced with Recreate", () => {
    const deployment = find(build("exporter-deployment"), "Deployment", "cts-exporter");
    const spec = deployment["spec"] as YamlObject;
    assert.equal(spec["replicas"], 1);
    assert.deepEqual(spec["strategy"], { type: "Recreate" });
    const volumes = podSpecOf(deployment)!["volumes"] as YamlObject[];
    assert.ok(volumes.some((volume) => isObject(volume["persistentVolumeClaim"])));
  });

  test("the SinkBinding binds the Deployment of its own variant", () => {
    const resources = build("exporter-deployment");
    const subject = (find(resources, "SinkBinding")["spec"] as YamlObject)["subject"] as YamlObject;
    const deployment = find(resources, "Deployment");
    assert.equal(subject["apiVersion"], deployment["apiVersion"]);
    assert.equal(subject["kind"], "Deployment");
    assert.equal(subject["name"], (deployment["metadata"] as YamlObject)["name"]);
  });

  test("every sink, subscriber and broker reference names an object some variant creates", () => {
    const all = [...builds.values()].flat().map(({ doc }) => doc);
    const exists = (ref: YamlObject) =>
      all.some(
        (doc) =>
          doc["apiVersion"] === ref["apiVersion"] &&
          doc["kind"] === ref["kind"] &&
          (doc["metadata"] as YamlObject)["name"] === ref["name"],
      );
    const refs: YamlObject[] = [];
    for (const doc of all) {
      const spec = isObject(doc["spec"]) ? doc["spec"] : {};
      for (const holder of [spec["sink"], spec["subscriber"]]) {
        if (isObject(holder) && isObject(holder["ref"])) refs.push(holder["ref"]);
      }
      if (doc["kind"] === "Trigger") {
        refs.push({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: spec["broker"] });
      }
    }
    assert.ok(refs.length >= 5, `only ${refs.length} references`);
    for (const ref of refs) assert.ok(exists(ref), `nothing creates ${JSON.stringify(ref)}`);
  });

  test("the variants send where they say: event-display and broker patch only the sink", () => {
    const sinkOf = (variant: string) =>
      (find(build(variant), "ContainerSource")["spec"] as YamlObject)["sink"];
    assert.deepEqual(sinkOf("exporter-containersource"), {
      ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "neo4j-sink" },
    });
    assert.deepEqual(sinkOf("event-display"), {
      ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "event-display" },
    });
    assert.deepEqual(sinkOf("broker"), {
      ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "cts-audit" },
    });
    const template = (variant: string) =>
      (find(build(variant), "ContainerSource")["spec"] as YamlObject)["template"];
    assert.deepEqual(template("event-display"), template("exporter-containersource"));
    assert.deepEqual(template("broker"), template("exporter-containersource"));
  });

  test("the sink keeps a warm pod, caps concurrency and uses no feature-flagged pod field", () => {
    const service = find(build("sink"), "Service", "neo4j-sink");
    const template = (service["spec"] as YamlObject)["template"] as YamlObject;
    const annotations = (template["metadata"] as YamlObject)["annotations"] as YamlObject;
    assert.equal(annotations["autoscaling.knative.dev/min-scale"], "1");
    const spec = template["spec"] as YamlObject;
    assert.equal(typeof spec["containerConcurrency"], "number");
    assert.ok((spec["containerConcurrency"] as number) > 0);
    // Knative's CRD leaves these open but its webhook refuses them unless a feature flag is on.
    for (const field of ["securityContext", "affinity", "nodeSelector", "tolerations"]) {
      assert.equal(spec[field], undefined, `${field} needs a Knative feature flag`);
    }
  });

  test("workloads run as a non-root user with resource requests and limits", () => {
    for (const [variant, resources] of builds) {
      for (const { file, doc } of resources) {
        for (const container of containersOf(doc)) {
          const resourcesSpec = container["resources"] as YamlObject | undefined;
          assert.ok(isObject(resourcesSpec?.["requests"]), `${variant}: ${file} requests`);
          assert.ok(isObject(resourcesSpec["limits"]), `${variant}: ${file} limits`);
          const image = imageBaseName(String(container["image"]));
          if (image === "cts-exporter" || image === "neo4j-sink") {
            const pod = podSpecOf(doc)!["securityContext"] as YamlObject | undefined;
            const own = container["securityContext"] as YamlObject;
            assert.equal(own["runAsNonRoot"] ?? pod?.["runAsNonRoot"], true, file);
            assert.equal(own["readOnlyRootFilesystem"], true, file);
            assert.equal(own["allowPrivilegeEscalation"], false, file);
          }
        }
      }
    }
  });

  test("the kustomize stand-in refuses what it cannot follow", () => {
    const fixtures = join(REPO_ROOT, "config", "test", "fixtures");
    assert.throws(
      () => buildKustomization(join(fixtures, "unsupported")),
      /"configMapGenerator" is not supported/,
    );
    assert.throws(
      () => buildKustomization(join(fixtures, "patch-misses")),
      /patch target matches no resource/,
    );
    const doc = { spec: { sink: { ref: { name: "a" } } } };
    applyOperation(doc, { op: "replace", path: "/spec/sink/ref/name", value: "b" }, "t");
    assert.equal(doc.spec.sink.ref.name, "b");
    assert.throws(() => {
      applyOperation(doc, { op: "replace", path: "/spec/snk/ref", value: {} }, "t");
    }, /does not exist/);
  });
});

/** kubectl embeds kustomize; where it is installed, its output must equal the stand-in's. */
const kubectl = spawnSync("kubectl", ["version", "--client"], {
  encoding: "utf8",
  timeout: 30_000,
  killSignal: "SIGKILL",
});
describe(
  "kubectl kustomize agrees with the stand-in",
  { skip: kubectl.status !== 0 && "no kubectl" },
  () => {
    for (const variant of VARIANTS) {
      test(variant, () => {
        const output = runCommand("kubectl", ["kustomize", join(CONFIG_DIR, variant)], {
          timeoutMs: 60_000,
        });
        const theirs = loadAll(output).filter(isObject);
        const byId = (docs: YamlObject[]) =>
          new Map(docs.map((doc) => [resourceId(doc), doc] as const));
        const ours = byId(build(variant).map(({ doc }) => doc));
        assert.deepEqual(byId(theirs), ours);
      });
    }
  },
);
