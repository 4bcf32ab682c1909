/**
 * Regenerates the JSON schemas under config/test/schemas/ (see schemas/README.md for where the
 * inputs come from). Run from the repository root:
 *
 *   node --import tsx config/test/vendor-schemas.ts \
 *     --kubernetes <kubernetes-json-schema/v1.35.0-local-strict> --crds <dir with the CRD YAML>
 *
 * Kubernetes: the definitions reachable from the kinds the manifests use are kept, the rest is
 * dropped; descriptions are dropped everywhere. Knative: each CRD's openAPIV3Schema becomes a
 * JSON schema that rejects unknown fields wherever the CRD lists properties and does not say
 * `x-kubernetes-preserve-unknown-fields`, the way the API server prunes them.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { load } from "js-yaml";
import { format } from "prettier";
import { KNATIVE_KINDS, KUBERNETES_KINDS, SCHEMA_DIR } from "./schema-catalog.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = Record<string, Json>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A copy without `description` keys (they are most of the bytes and none of the checks). */
function withoutDescriptions(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutDescriptions);
  if (!isObject(node)) return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // A property that happens to be named "description" is data, not documentation.
    if (key === "description" && typeof value === "string") continue;
    copy[key] = withoutDescriptions(value);
  }
  return copy;
}

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, into);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      const name = /#\/\$defs\/(.+)$/.exec(value)?.[1];
      if (name !== undefined) into.add(name);
    } else {
      collectRefs(value, into);
    }
  }
}

async function vendorKubernetes(sourceDir: string, targetDir: string): Promise<void> {
  const definitions = JSON.parse(readFileSync(join(sourceDir, "_definitions.json"), "utf8")) as {
    $defs: Record<string, Json>;
  };
  const roots = new Set<string>();
  const kinds = new Map<string, Json>();
  for (const { file } of KUBERNETES_KINDS) {
    const schema = JSON.parse(readFileSync(join(sourceDir, file), "utf8")) as Json;
    kinds.set(file, schema);
    collectRefs(schema, roots);
  }
  // The Knative schemas point their metadata at ObjectMeta.
  roots.add("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  const kept = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (kept.has(name)) continue;
    const definition = definitions.$defs[name];
    if (definition === undefined) throw new Error(`definition ${name} is missing`);
    kept.add(name);
    const refs = new Set<string>();
    collectRefs(definition, refs);
    pending.push(...refs);
  }
  const pruned: JsonObject = {};
  for (const name of [...kept].sort()) pruned[name] = withoutDescriptions(definitions.$defs[name]!);
  mkdirSync(targetDir, { recursive: true });
  await writeJson(join(targetDir, "_definitions.json"), {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://kubernetes.io/api/_definitions.json",
    $defs: pruned,
  });
  for (const [file, schema] of kinds) {
    await writeJson(join(targetDir, file), withoutDescriptions(schema));
  }
}

/** OpenAPI v3 as the API server reads a CRD, turned into a strict JSON schema. */
function strictFromOpenApi(node: JsonObject): JsonObject {
  const out: JsonObject = {};
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  for (const [key, value] of Object.entries(node)) {
    if (key === "description" || key.startsWith("x-kubernetes-") || key === "nullable") continue;
    if (key === "properties" && isObject(value)) {
      const properties: JsonObject = {};
      for (const [name, child] of Object.entries(value)) {
        properties[name] = isObject(child) ? strictFromOpenApi(child) : child;
      }
      out[key] = properties;
    } else if (
      (key === "items" || key === "additionalProperties" || key === "not") &&
      isObject(value)
    ) {
      out[key] = strictFromOpenApi(value);
    } else if ((key === "anyOf" || key === "allOf" || key === "oneOf") && Array.isArray(value)) {
      out[key] = value.map((item) => (isObject(item) ? strictFromOpenApi(item) : item));
    } else {
      out[key] = value;
    }
  }
  if (node["x-kubernetes-int-or-string"] === true && out["anyOf"] === undefined) {
    out["anyOf"] = [{ type: "integer" }, { type: "string" }];
  }
  if (node["nullable"] === true && typeof out["type"] === "string") {
    out["type"] = [out["type"], "null"];
  }
  if (isObject(out["properties"]) && out["additionalProperties"] === undefined && !preserve) {
    out["additionalProperties"] = false;
  }
  return out;
}

async function vendorKnative(crdDir: string, targetDir: string): Promise<void> {
  mkdirSync(targetDir, { recursive: true });
  for (const kind of KNATIVE_KINDS) {
    const crd = load(readFileSync(join(crdDir, kind.crd), "utf8")) as {
      spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; schema: { openAPIV3Schema: JsonObject } }[];
      };
    };
    const [group, version] = kind.apiVersion.split("/") as [string, string];
    if (crd.spec.group !== group || crd.spec.names.kind !== kind.kind) {
      throw new Error(`${kind.crd} defines ${crd.spec.names.kind}.${crd.spec.group}`);
    }
    const served = crd.spec.versions.find((entry) => entry.name === version);
    if (served === undefined) throw new Error(`${kind.crd} has no version ${version}`);
    const schema = strictFromOpenApi(served.schema.openAPIV3Schema);
    const properties = (schema["properties"] ?? {}) as JsonObject;
    // The CRD leaves apiVersion, kind and metadata to the API server; pin them here.
    schema["properties"] = {
      ...properties,
      apiVersion: { const: kind.apiVersion },
      kind: { const: kind.kind },
      metadata: {
        $ref: "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
      },
    };
    schema["required"] = ["apiVersion", "kind", "metadata"];
    schema["additionalProperties"] = false;
    await writeJson(join(targetDir, kind.file), {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: `https://cloudtrace-exporter.local/schemas/${kind.file}`,
      ...schema,
    });
  }
}

/** Written as `prettier --check` wants it, so the format gate passes on regenerated files. */
function writeJson(path: string, value: Json): Promise<void> {
  return format(JSON.stringify(value), { parser: "json", printWidth: 100 }).then((text) => {
    writeFileSync(path, text);
  });
}

const { values } = parseArgs({
  options: { kubernetes: { type: "string" }, crds: { type: "string" } },
  strict: true,
});
if (values.kubernetes === undefined || values.crds === undefined) {
  process.stderr.write("usage: vendor-schemas.ts --kubernetes <dir> --crds <dir>\n");
  process.exit(64);
}
await vendorKubernetes(values.kubernetes, join(SCHEMA_DIR, "kubernetes"));
await vendorKnative(values.crds, join(SCHEMA_DIR, "knative"));
process.stdout.write(`schemas written to ${SCHEMA_DIR}\n`);
