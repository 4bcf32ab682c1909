import { fromAlphabet, hex, streamFor } from "./random.js";

/**
 * The tenant the simulator plays: one domain (account), one project, one IAM user with a
 * password and an access key. Derived from the seed, so the same seed prints the same
 * clouds.yaml on every start; every field can be overridden.
 */
export interface SimIdentity {
  readonly region: string;
  readonly domainId: string;
  /** Looks like OTC's `OTC00000000001000000xxx`. */
  readonly domainName: string;
  readonly projectId: string;
  /** `<region>_<name>`, e.g. `eu-de_simulator`; the region prefix is how clients derive it. */
  readonly projectName: string;
  readonly userId: string;
  readonly username: string;
  readonly password: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM = `${UPPER_ALNUM}abcdefghijklmnopqrstuvwxyz`;

/** The identity of `seed`, with `overrides` applied. */
export function identityFor(seed: number, overrides: Partial<SimIdentity> = {}): SimIdentity {
  const random = streamFor(seed, "identity");
  const region = overrides.region ?? "eu-de";
  return {
    region,
    domainId: hex(random, 32),
    domainName: `OTC00000000001000000${String(Math.floor(random() * 1000)).padStart(3, "0")}`,
    projectId: hex(random, 32),
    projectName: `${region}_simulator`,
    userId: hex(random, 32),
    username: "sim-operator",
    password: `Sim-${fromAlphabet(random, ALNUM, 16)}`,
    accessKey: fromAlphabet(random, UPPER_ALNUM, 20),
    secretKey: fromAlphabet(random, ALNUM, 40),
    ...overrides,
  };
}

/** Other users of the same domain who show up in generated traces. */
export interface SimUser {
  readonly id: string;
  readonly name: string;
}

/** A fixed cast, including names with non-ASCII letters and service accounts. */
export function domainUsers(seed: number, identity: SimIdentity): readonly SimUser[] {
  const random = streamFor(seed, "users");
  const names = [
    "alice.schmidt",
    "bob_ops",
    "jürgen.müller",
    "svc-terraform",
    "ci-pipeline",
    "émilie.dupont",
    "zhang.wei",
    "security-auditor",
  ];
  return [
    { id: identity.userId, name: identity.username },
    ...names.map((name) => ({ id: hex(random, 32), name })),
  ];
}
