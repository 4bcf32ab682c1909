/**
 * Validates manifests against the vendored Kubernetes 1.35 and Knative 1.22 schemas (see
 * schemas/README.md). Unknown fields are errors, as they are for the API server's pruning and
 * for `kubectl apply --validate=strict`. What the Knative CRDs leave open is checked here
 * against the core schema: a ContainerSource's `spec.template` is a PodTemplateSpec.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { isObject, type YamlObject } from "./kustomize-lite.js";
import { KNATIVE_KINDS, KUBERNETES_KINDS, SCHEMA_DIR } from "./schema-catalog.js";

export interface ManifestValidator {
  /** Problems found in one object, each as `<json pointer>: <message>`; empty when valid. */
  validate(doc: YamlObject): string[];
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

function describe(error: ErrorObject, prefix: string): string {
  const where = `${prefix}${error.instancePath}` || "/";
  if (error.keyword === "additionalProperties") {
    const field = (error.params as { additionalProperty: string }).additionalProperty;
    return `${where}: unknown field "${field}"`;
  }
  if (error.keyword === "const" || error.keyword === "enum") {
    return `${where}: ${error.message ?? "invalid"} ${JSON.stringify(error.params)}`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}

function loadSchema(path: string): { $id: string } & Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as { $id: string } & Record<string, unknown>;
}

/** Compiles every vendored schema once; building a validator takes about a second. */
export function createManifestValidator(): ManifestValidator {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // OpenAPI's formats. int32/int64 bound the number; byte and date-time are left to the server.
  ajv.addFormat("int32", {
    type: "number",
    validate: (value: number) =>
      Number.isInteger(value) && value >= INT32.min && value <= INT32.max,
  });
  ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isInteger(value) });
  ajv.addFormat("byte", true);
  ajv.addFormat("date-time", true);

  const kubernetesDir = join(SCHEMA_DIR, "kubernetes");
  const knativeDir = join(SCHEMA_DIR, "knative");
  for (const file of readdirSync(kubernetesDir).filter((name) => name.endsWith(".json"))) {
    ajv.addSchema(loadSchema(join(kubernetesDir, file)));
  }
  const byKind = new Map<string, ValidateFunction>();
  let podTemplate: ValidateFunction | undefined;
  for (const entry of KUBERNETES_KINDS) {
    const { $id } = loadSchema(join(kubernetesDir, entry.file));
    const validate = ajv.getSchema($id);
    if (validate === undefined) throw new Error(`schema ${$id} did not compile`);
    if (entry.kind === "PodTemplateSpec") podTemplate = validate;
    else byKind.set(`${entry.apiVersion}/${entry.kind}`, validate);
  }
  for (const entry of KNATIVE_KINDS) {
    byKind.set(
      `${entry.apiVersion}/${entry.kind}`,
      ajv.compile(loadSchema(join(knativeDir, entry.file))),
    );
  }
  if (podTemplate === undefined) throw new Error("no PodTemplateSpec schema");
  const podTemplateSchema = podTemplate;

  return {
    validate(doc) {
      const key = `${String(doc["apiVersion"])}/${String(doc["kind"])}`;
      const validate = byKind.get(key);
      if (validate === undefined)
        return [`/: no schema for ${key}; vendor one (schemas/README.md)`];
      const problems: string[] = [];
      if (!validate(doc)) problems.push(...(validate.errors ?? []).map((e) => describe(e, "")));
      const spec = isObject(doc["spec"]) ? doc["spec"] : {};
      if (doc["kind"] === "ContainerSource") {
        // The CRD keeps spec.template open (x-kubernetes-preserve-unknown-fields).
        if (!podTemplateSchema(spec["template"] ?? {})) {
          problems.push(
            ...(podTemplateSchema.errors ?? []).map((e) => describe(e, "/spec/template")),
          );
        }
      }
      if (doc["kind"] === "ContainerSource" || doc["kind"] === "SinkBinding") {
        // Open in the CRD too, but a map[string]string in Knative's Go types.
        const overrides = isObject(spec["ceOverrides"]) ? spec["ceOverrides"] : {};
        const extensions = isObject(overrides["extensions"]) ? overrides["extensions"] : {};
        for (const [name, value] of Object.entries(extensions)) {
          if (typeof value !== "string") {
            problems.push(`/spec/ceOverrides/extensions/${name}: must be a string (quote it)`);
          }
        }
      }
      return problems;
    },
  };
}
