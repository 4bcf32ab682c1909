import { AppError, ErrorCode, type Env } from "@cts/shared";
import type { CloudConfig } from "./cloud-config.js";
import { findDocument, mergeSecure, type SearchRoots } from "./clouds-files.js";
import { resolveCloud } from "./resolve-cloud.js";

/** Variables that only select or locate a cloud; alone they do not make an environment cloud. */
const SELECTORS = new Set([
  "OS_CLOUD",
  "OS_CLOUD_NAME",
  "OS_CLIENT_CONFIG_FILE",
  "OS_CLIENT_SECURE_FILE",
  "OS_REGION_NAME",
  "OS_DEBUG",
]);

function nonEmpty(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === "" ? undefined : text;
}

function hasEnvironmentCloud(env: Env): boolean {
  return Object.entries(env).some(
    ([name, value]) =>
      name.startsWith("OS_") && !SELECTORS.has(name) && value !== undefined && value.trim() !== "",
  );
}

/**
 * Loads the clouds.yaml profile the exporter runs with (docs/otc-api-notes.md
 * section 7): the first clouds file found (OS_CLIENT_CONFIG_FILE first, then the current
 * directory, `~/.config/openstack`, `/etc/openstack`; `.yaml`, `.yml`, `.json`), secure.yaml
 * merged over it, the cloud named by OS_CLOUD or else the only one, OS_* variables as
 * fallbacks. Without any file, a cloud is built from OS_* variables alone (`envvars`).
 *
 * Synchronous: it runs once at start-up, before anything else is opened.
 * @throws AppError CONFIG_INVALID naming the file, the cloud and the key (never a secret).
 */
export function loadCloudConfig(env: Env, options: SearchRoots = {}): CloudConfig {
  const clouds = findDocument("clouds", env, options);
  const secure = findDocument("secure", env, options);
  const environmentCloud = nonEmpty(env["OS_CLOUD_NAME"]) ?? "envvars";
  const requested = nonEmpty(env["OS_CLOUD"]);
  const entries = mergeSecure(
    clouds.found?.document.clouds ?? {},
    secure.found?.document.clouds ?? {},
  );
  const names = Object.keys(entries);
  const context = {
    file: clouds.found?.path ?? secure.found?.path,
    secureFile: secure.found?.path,
    env,
  };

  if (requested !== undefined) {
    if (requested in entries)
      return resolveCloud(entries[requested], { ...context, cloud: requested });
    if (requested === environmentCloud && hasEnvironmentCloud(env)) {
      return resolveCloud({}, { ...context, file: undefined, cloud: requested });
    }
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      context.file === undefined
        ? `OS_CLOUD is "${requested}" but no clouds.yaml was found (searched ${clouds.searched.join(", ")}); create one or set OS_CLIENT_CONFIG_FILE`
        : `OS_CLOUD is "${requested}" but clouds.yaml "${context.file}" has no such cloud; it has: ${names.join(", ") || "none"}`,
      { details: { cloud: requested, file: context.file ?? null } },
    );
  }
  const [only, ...others] = names;
  if (only !== undefined && others.length === 0) {
    return resolveCloud(entries[only], { ...context, cloud: only });
  }
  if (names.length > 1) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `clouds.yaml "${context.file ?? ""}" has ${names.length} clouds (${names.join(", ")}); set OS_CLOUD to the one to use`,
      { details: { file: context.file ?? null } },
    );
  }
  if (hasEnvironmentCloud(env)) {
    return resolveCloud({}, { ...context, file: undefined, cloud: environmentCloud });
  }
  throw new AppError(
    ErrorCode.CONFIG_INVALID,
    context.file === undefined
      ? `no clouds.yaml found (searched ${clouds.searched.join(", ")}) and no OS_AUTH_URL/OS_* credentials in the environment; copy clouds.tpl to ./clouds.yaml and fill it in`
      : `clouds.yaml "${context.file}" defines no clouds; add one under the clouds: key`,
    { details: { file: context.file ?? null } },
  );
}
