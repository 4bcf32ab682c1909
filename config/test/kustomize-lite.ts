/**
 * Just enough of kustomize to build config/<variant> the way `kubectl apply -k` does, so the
 * tests see the same objects without a kustomize binary: `resources` (files and directories
 * holding a kustomization), JSON 6902 `patches` with a target, and `images`. Anything else in
 * a kustomization.yaml is an error here rather than silently ignored, so a manifest feature the
 * tests cannot follow is noticed when it is introduced.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAll } from "js-yaml";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CONFIG_DIR = join(REPO_ROOT, "config");

export type YamlObject = Record<string, unknown>;

/** One Kubernetes object and the file it was read from (relative to the repository). */
export interface Resource {
  readonly file: string;
  readonly doc: YamlObject;
}

export const isObject = (value: unknown): value is YamlObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every YAML document in a file, in order; empty documents are skipped. */
export function readYamlDocuments(path: string): YamlObject[] {
  const docs = loadAll(readFileSync(path, "utf8"));
  return docs
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, index) => {
      if (!isObject(doc)) throw new Error(`${path}: document ${index} is not a mapping`);
      return doc;
    });
}

/** apiVersion/kind/name, the identity kustomize refuses to see twice. */
export function resourceId(doc: YamlObject): string {
  const metadata = isObject(doc["metadata"]) ? doc["metadata"] : {};
  return `${String(doc["apiVersion"])}/${String(doc["kind"])}/${String(metadata["name"])}`;
}

const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "resources", "patches", "images"]);

/** Directories under config/ that hold a kustomization.yaml: the `kubectl apply -k` targets. */
export function kustomizationDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (!statSync(path).isDirectory() || entry === "test" || entry === "node_modules") continue;
      if (existsSync(join(path, "kustomization.yaml"))) found.push(path);
      walk(path);
    }
  };
  walk(CONFIG_DIR);
  return found;
}

/** Builds a kustomization directory into its list of objects, as `kubectl kustomize` would. */
export function buildKustomization(dir: string): Resource[] {
  const path = join(dir, "kustomization.yaml");
  const [kustomization] = readYamlDocuments(path);
  if (kustomization === undefined) throw new Error(`${path} is empty`);
  for (const key of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_KEYS.has(key)) {
      throw new Error(`${rel(path)}: "${key}" is not supported by the manifest tests`);
    }
  }
  if (kustomization["kind"] !== "Kustomization") throw new Error(`${rel(path)}: kind`);
  const resources: Resource[] = [];
  for (const entry of asArray(kustomization["resources"], `${rel(path)} resources`)) {
    if (typeof entry !== "string") throw new Error(`${rel(path)}: resources holds a non-string`);
    const target = resolve(dir, entry);
    if (statSync(target).isDirectory()) {
      resources.push(...buildKustomization(target));
    } else {
      // kustomize's load restrictor: files must sit inside the kustomization's own folder.
      if (relative(dir, target).startsWith("..")) {
        throw new Error(`${rel(path)}: file ${entry} lies outside the kustomization`);
      }
      for (const doc of readYamlDocuments(target)) resources.push({ file: rel(target), doc });
    }
  }
  const seen = new Set<string>();
  for (const { doc } of resources) {
    const id = resourceId(doc);
    if (seen.has(id)) throw new Error(`${rel(path)}: ${id} appears twice`);
    seen.add(id);
  }
  for (const patch of asArray(kustomization["patches"], `${rel(path)} patches`)) {
    applyPatch(resources, patch, rel(path));
  }
  for (const image of asArray(kustomization["images"], `${rel(path)} images`)) {
    applyImage(resources, image, rel(path));
  }
  return resources;
}

function rel(path: string): string {
  return relative(REPO_ROOT, path).split(sep).join("/");
}

function asArray(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${what} must be a list`);
  return value;
}

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
}

function matchesTarget(doc: YamlObject, target: PatchTarget): boolean {
  const [group, version] = String(doc["apiVersion"]).includes("/")
    ? String(doc["apiVersion"]).split("/")
    : ["", String(doc["apiVersion"])];
  const name = isObject(doc["metadata"]) ? doc["metadata"]["name"] : undefined;
  return (
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.kind === undefined || target.kind === doc["kind"]) &&
    (target.name === undefined || target.name === name)
  );
}

function applyPatch(resources: Resource[], patch: unknown, where: string): void {
  if (!isObject(patch) || !isObject(patch["target"]) || typeof patch["patch"] !== "string") {
    throw new Error(`${where}: only inline JSON 6902 patches with a target are supported`);
  }
  const operations = loadAll(patch["patch"])[0];
  if (!Array.isArray(operations)) {
    throw new Error(`${where}: a strategic-merge patch is not supported by the manifest tests`);
  }
  const target = patch["target"] as PatchTarget;
  const matched = resources.filter(({ doc }) => matchesTarget(doc, target));
  // kustomize accepts a patch that matches nothing; here that is a mistake worth a failure.
  if (matched.length === 0) throw new Error(`${where}: patch target matches no resource`);
  for (const resource of matched) {
    for (const operation of operations) applyOperation(resource.doc, operation, where);
  }
}

/** RFC 6902 add, replace and remove on a JSON pointer. */
export function applyOperation(doc: YamlObject, operation: unknown, where: string): void {
  if (!isObject(operation) || typeof operation["path"] !== "string") {
    throw new Error(`${where}: malformed patch operation`);
  }
  const segments = operation["path"]
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
  const last = segments.pop();
  if (last === undefined) throw new Error(`${where}: patching the whole document`);
  let parent: unknown = doc;
  for (const segment of segments) {
    parent = Array.isArray(parent)
      ? (parent as unknown[])[Number(segment)]
      : isObject(parent)
        ? parent[segment]
        : undefined;
    if (parent === undefined) throw new Error(`${where}: ${operation["path"]} does not exist`);
  }
  const op = operation["op"];
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (op === "add") parent.splice(index, 0, structuredClone(operation["value"]));
    else if (op === "replace" && index < parent.length) {
      parent[index] = structuredClone(operation["value"]);
    } else if (op === "remove" && index < parent.length) parent.splice(index, 1);
    else throw new Error(`${where}: cannot ${String(op)} ${operation["path"]}`);
    return;
  }
  if (!isObject(parent)) throw new Error(`${where}: ${operation["path"]} has no parent object`);
  if (op === "add") parent[last] = structuredClone(operation["value"]);
  else if ((op === "replace" || op === "remove") && last in parent) {
    if (op === "replace") parent[last] = structuredClone(operation["value"]);
    else Reflect.deleteProperty(parent, last);
  } else throw new Error(`${where}: cannot ${String(op)} ${operation["path"]}`);
}

/** The pod spec of a workload: Deployment, ContainerSource and Knative Service alike. */
export function podSpecOf(doc: YamlObject): YamlObject | undefined {
  const spec = doc["spec"];
  if (!isObject(spec) || !isObject(spec["template"])) return undefined;
  const podSpec = spec["template"]["spec"];
  return isObject(podSpec) ? podSpec : undefined;
}

export function containersOf(doc: YamlObject): YamlObject[] {
  const podSpec = podSpecOf(doc);
  if (podSpec === undefined) return [];
  return [podSpec["initContainers"], podSpec["containers"]]
    .flatMap((list: unknown): unknown[] => (Array.isArray(list) ? (list as unknown[]) : []))
    .filter(isObject);
}

/** Splits `registry/name:tag@digest` into the name kustomize matches and the rest. */
function imageName(image: string): string {
  const withoutDigest = image.split("@")[0]!;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/**
 * The image's last path segment without tag or digest: `cts-exporter` both for the placeholder
 * and for `registry.example.com/cloudtrace/cts-exporter:0.1.0` after `kustomize edit set image`.
 */
export function imageBaseName(image: string): string {
  return imageName(image).split("/").pop()!;
}

function applyImage(resources: Resource[], image: unknown, where: string): void {
  if (!isObject(image) || typeof image["name"] !== "string") {
    throw new Error(`${where}: an images entry needs a name`);
  }
  const { name, newName, newTag, digest } = image as {
    name: string;
    newName?: string;
    newTag?: string;
    digest?: string;
  };
  for (const { doc } of resources) {
    for (const container of containersOf(doc)) {
      const current = container["image"];
      if (typeof current !== "string" || imageName(current) !== name) continue;
      const suffix =
        digest !== undefined
          ? `@${digest}`
          : newTag !== undefined
            ? `:${newTag}`
            : current.slice(imageName(current).length);
      container["image"] = `${newName ?? name}${suffix}`;
    }
  }
}

/**
 * Every variant under config/ built once, by its directory relative to config/ ("base",
 * "sink", ...): the tests read these instead of building each kustomization again.
 */
export const variantBuilds: ReadonlyMap<string, readonly Resource[]> = new Map(
  kustomizationDirs().map((dir) => [relative(CONFIG_DIR, dir), buildKustomization(dir)]),
);

/** A fresh copy of one variant's objects, safe to change in a test. */
export function buildVariant(variant: string): Resource[] {
  const resources = variantBuilds.get(variant);
  if (resources === undefined) throw new Error(`no kustomization config/${variant}`);
  return structuredClone([...resources]);
}
