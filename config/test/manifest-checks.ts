/**
 * Holds the manifests to the code: every environment variable a container gets (its `env`
 * and the keys of the ConfigMaps it takes with `envFrom`) must be one the service reads, the
 * values must pass the service's own configuration parser, probe paths must be routes it
 * serves on the port it listens on, secret keys must be ones the documented `kubectl create
 * secret` commands create, and file paths in the environment must land on a mounted volume.
 */
import {
  containersOf,
  imageBaseName,
  isObject,
  podSpecOf,
  type Resource,
  type YamlObject,
} from "./kustomize-lite.js";
import type { CodeFacts } from "./code-facts.js";

/** One service image and what its code reads. */
export interface ServiceCode {
  /** The image's base name (the manifests' placeholder), e.g. `cts-exporter`. */
  readonly image: string;
  readonly name: string;
  readonly facts: CodeFacts;
  /** What the platform sets in this workload (K_SINK, PORT, ...), before the manifest's own. */
  platformEnv(workload: YamlObject, container: YamlObject): Record<string, string>;
  /** The service's own configuration parser: the port it would listen on, or a throw. */
  listenPort(env: Readonly<Record<string, string>>): number;
}

/** Secret name -> keys, as the README's `kubectl create secret generic` commands create them. */
type SecretCatalog = ReadonlyMap<string, ReadonlySet<string>>;

const SECRET_PLACEHOLDER = "placeholder-from-secret";

/** A YAML scalar for a message; anything else as JSON. */
function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : JSON.stringify(value);
}

function nameOf(doc: YamlObject): string {
  return isObject(doc["metadata"]) ? String(doc["metadata"]["name"]) : "?";
}

function list(value: unknown): YamlObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function isKnativeService(doc: YamlObject): boolean {
  return doc["apiVersion"] === "serving.knative.dev/v1" && doc["kind"] === "Service";
}

/** Checks every workload in one kustomize build; returns the problems, one line each. */
export function checkManifestsAgainstCode(
  resources: readonly Resource[],
  services: readonly ServiceCode[],
  secrets: SecretCatalog,
): string[] {
  const problems: string[] = [];
  const configMaps = new Map(
    resources
      .filter(({ doc }) => doc["apiVersion"] === "v1" && doc["kind"] === "ConfigMap")
      .map((resource) => [nameOf(resource.doc), resource]),
  );
  const claims = new Set(
    resources
      .filter(({ doc }) => doc["kind"] === "PersistentVolumeClaim")
      .map(({ doc }) => nameOf(doc)),
  );

  for (const { file, doc } of resources) {
    const podSpec = podSpecOf(doc);
    if (podSpec === undefined) continue;
    const volumes = new Map(
      list(podSpec["volumes"]).map((volume) => [String(volume["name"]), volume]),
    );
    for (const volume of volumes.values()) {
      const claim = isObject(volume["persistentVolumeClaim"])
        ? volume["persistentVolumeClaim"]["claimName"]
        : undefined;
      if (claim !== undefined && !claims.has(text(claim))) {
        problems.push(
          `${file}: volume ${String(volume["name"])} claims ${text(claim)}, which this variant does not create`,
        );
      }
      const secret = isObject(volume["secret"]) ? volume["secret"] : undefined;
      if (secret !== undefined && !secrets.has(String(secret["secretName"]))) {
        problems.push(
          `${file}: volume ${String(volume["name"])} mounts Secret ${String(secret["secretName"])}, which no README command creates`,
        );
      }
    }
    for (const container of containersOf(doc)) {
      const image = typeof container["image"] === "string" ? imageBaseName(container["image"]) : "";
      const service = services.find((candidate) => candidate.image === image);
      if (service === undefined) continue;
      const where = `${file}: ${String(doc["kind"])} ${nameOf(doc)}, container ${String(container["name"])}`;
      const context = { doc, container, service, where, configMaps, volumes, secrets, problems };
      const env = collectEnv(context);
      const port = checkValues(context, env);
      checkPorts(context, port);
      checkFiles(context, env);
    }
  }
  return problems;
}

/** One container of a workload, what its checks look up, and where they report. */
interface ContainerContext {
  readonly doc: YamlObject;
  readonly container: YamlObject;
  readonly service: ServiceCode;
  /** The container, as problems name it. */
  readonly where: string;
  readonly configMaps: ReadonlyMap<string, Resource>;
  /** The pod's volumes by name. */
  readonly volumes: ReadonlyMap<string, YamlObject>;
  readonly secrets: SecretCatalog;
  readonly problems: string[];
}

function collectEnv(context: ContainerContext): Map<string, string> {
  const { container, where, service, configMaps, secrets, problems } = context;
  const env = new Map<string, string>();
  const unread = (name: string, how: string) => {
    if (!service.facts.envNames.has(name)) {
      problems.push(`${how}: ${name} is not an environment variable ${service.name} reads`);
    }
  };
  for (const source of list(container["envFrom"])) {
    const ref = isObject(source["configMapRef"]) ? source["configMapRef"] : undefined;
    if (ref === undefined) {
      problems.push(`${where}: envFrom other than configMapRef is not checked; add a check first`);
      continue;
    }
    const configMap = configMaps.get(String(ref["name"]));
    if (configMap === undefined) {
      problems.push(
        `${where}: envFrom names ConfigMap ${String(ref["name"])}, which this variant does not create`,
      );
      continue;
    }
    const data = isObject(configMap.doc["data"]) ? configMap.doc["data"] : {};
    for (const [key, value] of Object.entries(data)) {
      unread(key, `${configMap.file}: ConfigMap ${String(ref["name"])} (envFrom of ${where})`);
      env.set(key, String(value));
    }
  }
  for (const variable of list(container["env"])) {
    const name = String(variable["name"]);
    unread(name, `${where}, env`);
    const from = isObject(variable["valueFrom"]) ? variable["valueFrom"] : undefined;
    if (from === undefined) {
      env.set(name, typeof variable["value"] === "string" ? variable["value"] : "");
      continue;
    }
    const secretRef = isObject(from["secretKeyRef"]) ? from["secretKeyRef"] : undefined;
    if (secretRef !== undefined) {
      const keys = secrets.get(String(secretRef["name"]));
      if (keys?.has(String(secretRef["key"])) !== true) {
        problems.push(
          `${where}, env ${name}: Secret ${String(secretRef["name"])} key ${String(secretRef["key"])} is not created by any README command`,
        );
      }
      env.set(name, SECRET_PLACEHOLDER);
      continue;
    }
    problems.push(
      `${where}, env ${name}: only value and secretKeyRef are checked; add a check first`,
    );
  }
  return env;
}

function checkValues(
  context: ContainerContext,
  env: ReadonlyMap<string, string>,
): number | undefined {
  const { service, doc, container, where, problems } = context;
  const merged = { ...service.platformEnv(doc, container), ...Object.fromEntries(env) };
  try {
    return service.listenPort(merged);
  } catch (error) {
    problems.push(
      `${where}: ${service.name} rejects this environment: ${(error as Error).message}`,
    );
    return undefined;
  }
}

function checkPorts(context: ContainerContext, port: number | undefined): void {
  const { container, doc, service, where, problems } = context;
  const ports = list(container["ports"]);
  if (port !== undefined && ports.length > 0 && !ports.some((p) => p["containerPort"] === port)) {
    problems.push(`${where}: ${service.name} listens on ${port}, which no containerPort declares`);
  }
  for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
    const probe = isObject(container[kind]) ? container[kind] : undefined;
    if (probe === undefined) continue;
    const httpGet = isObject(probe["httpGet"]) ? probe["httpGet"] : undefined;
    if (httpGet === undefined) {
      problems.push(`${where}, ${kind}: only httpGet probes are checked`);
      continue;
    }
    const path = String(httpGet["path"]);
    if (!service.facts.routes.has(path)) {
      problems.push(
        `${where}, ${kind}: ${service.name} serves no ${path} (it serves ${[...service.facts.routes].join(", ")})`,
      );
    }
    const probePort = httpGet["port"];
    if (probePort === undefined) {
      // Knative fills in the serving port; a plain pod has no such default.
      if (!isKnativeService(doc)) problems.push(`${where}, ${kind}: httpGet needs a port`);
      continue;
    }
    const number =
      typeof probePort === "number"
        ? probePort
        : ports.find((p) => p["name"] === probePort)?.["containerPort"];
    if (number === undefined) {
      problems.push(`${where}, ${kind}: no container port is named ${text(probePort)}`);
    } else if (port !== undefined && number !== port) {
      problems.push(
        `${where}, ${kind}: probes port ${text(number)} but ${service.name} listens on ${port}`,
      );
    }
  }
}

/** Environment values that name files (`*_FILE`) must point into a mounted volume. */
function checkFiles(context: ContainerContext, env: ReadonlyMap<string, string>): void {
  const { container, volumes, secrets, where, problems } = context;
  const mounts = list(container["volumeMounts"]);
  for (const [name, value] of env) {
    if (!name.endsWith("_FILE") || value === "") continue;
    const mount = mounts.find((m) =>
      value.startsWith(`${String(m["mountPath"]).replace(/\/$/, "")}/`),
    );
    if (mount === undefined) {
      problems.push(`${where}, env ${name}: ${value} is on no mounted volume`);
      continue;
    }
    const inside = value.slice(String(mount["mountPath"]).replace(/\/$/, "").length + 1);
    const volume = volumes.get(String(mount["name"]));
    const secret =
      volume !== undefined && isObject(volume["secret"]) ? volume["secret"] : undefined;
    if (secret !== undefined) {
      // With items, only the listed keys appear, under their `path`.
      const items = list(secret["items"]);
      const key =
        items.length > 0 ? items.find((item) => item["path"] === inside)?.["key"] : inside;
      const keys = secrets.get(String(secret["secretName"]));
      if (key === undefined || keys?.has(text(key)) !== true) {
        problems.push(
          `${where}, env ${name}: ${value} needs key ${inside} in Secret ${String(secret["secretName"])}, which the README does not create`,
        );
      }
    }
    const writable = name === "CTS_STATE_FILE" || name === "CTS_DEAD_LETTER_FILE";
    if (writable) {
      if (mount["readOnly"] === true)
        problems.push(`${where}, env ${name}: ${value} is on a read-only mount`);
      if (
        volume === undefined ||
        !(isObject(volume["emptyDir"]) || isObject(volume["persistentVolumeClaim"]))
      ) {
        problems.push(
          `${where}, env ${name}: the ${name === "CTS_STATE_FILE" ? "checkpoint" : "dead-letter file"} needs an emptyDir or a PersistentVolumeClaim`,
        );
      }
    }
  }
}
