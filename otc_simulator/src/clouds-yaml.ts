import type { SimIdentity } from "./identity.js";

/** YAML single-quoted scalar: the only escape is a doubled quote. */
const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * A clouds.yaml pointing at the simulator, ready to paste: a password cloud laid out as the
 * original project's README shows it, and an AK/SK cloud. `OS_CLOUD` picks one.
 */
export function cloudsYaml(
  identity: SimIdentity,
  options: { authUrl: string; cloud?: string },
): string {
  const cloud = options.cloud ?? "simulator";
  const entry = (name: string, secrets: Record<string, string>) => [
    `  ${name}:`,
    "    profile: otc",
    "    auth:",
    ...Object.entries(secrets).map(([key, value]) => `      ${key}: ${quote(value)}`),
    `      project_name: ${quote(identity.projectName)}`,
    `      user_domain_name: ${quote(identity.domainName)}`,
    `      auth_url: ${quote(options.authUrl)}`,
    "    interface: 'public'",
    "    identity_api_version: 3",
  ];
  return [
    "clouds:",
    ...entry(cloud, { username: identity.username, password: identity.password }),
    ...entry(`${cloud}-aksk`, { ak: identity.accessKey, sk: identity.secretKey }),
    "",
  ].join("\n");
}
