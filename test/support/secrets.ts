import assert from "node:assert/strict";
import { leakedSecrets } from "@cts/devkit";
import type { Simulator } from "@cts/otc_simulator";

/** Named secrets: one value, or several (every IAM token the simulator issued). */
export type Secrets = Readonly<Record<string, string | readonly string[]>>;

/** A long secret cut short in a log line still gives most of it away. */
const PREFIX_CHARS = 32;

/**
 * Fails when `output` holds any of `secrets` (also URL- and JSON-escaped, and for long ones such
 * as tokens their first 32 characters). The failure names the secret, never its value, so the
 * test report does not leak what the log did. A secret shorter than 6 characters fails too:
 * `leakedSecrets` would skip it, and a check that checks nothing must not pass.
 */
export function assertNoSecrets(output: string, secrets: Secrets, where = "the output"): void {
  const leaked: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    const values = typeof value === "string" ? [value] : value;
    values.forEach((secret, index) => {
      assert.ok(secret.length >= 6, `secret "${name}" is too short to be checked reliably`);
      const forms =
        secret.length > PREFIX_CHARS * 2 ? [secret, secret.slice(0, PREFIX_CHARS)] : [secret];
      if (leakedSecrets(output, forms).length > 0) {
        leaked.push(values.length === 1 ? name : `${name}[${index}]`);
      }
    });
  }
  assert.deepEqual(leaked, [], `${where} carries secrets: ${leaked.join(", ")}`);
}

/** The simulator tenant's password and secret key, and every IAM token it issued so far. */
export function simulatorSecrets(sim: Simulator): Secrets {
  return {
    password: sim.credentials.password,
    secretKey: sim.credentials.secretKey,
    tokens: sim.issuedTokens(),
  };
}
