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
  const common = [
    `      project_name: ${quote(identity.projectName)}`,
    `      user_domain_name: ${quote(identity.domainName)}`,
    `      auth_url: ${quote(options.authUrl)}`,
  ];
  const tail = ["    interface: 'public'", "    identity_api_version: 3"];
  return [
    "clouds:",
    `  ${cloud}:`,
    "    profile: otc",
    "    auth:",
    `      username: ${quote(identity.username)}`,
    `      password: ${quote(identity.password)}`,
    ...common,
    ...tail,
    `  ${cloud}-aksk:`,
    "    profile: otc",
    "    auth:",
    `      ak: ${quote(identity.accessKey)}`,
    `      sk: ${quote(identity.secretKey)}`,
    ...common,
    ...tail,
    "",
  ].join("\n");
}
