import type { ScenarioGroup } from "../options.js";

/** How CTS classifies the caller (docs/otc-api-notes.md section 3). */
type TraceType = "ApiCall" | "ConsoleAction" | "SystemAction";

/** What kind of resource a scenario touches; decides names, ids and request bodies. */
export type ResourceKind =
  | "user"
  | "credential"
  | "ecs"
  | "vpc"
  | "subnet"
  | "security_group_rule"
  | "eip"
  | "bucket"
  | "tracker";

/** One kind of operation the generator produces. */
export interface Scenario {
  readonly group: ScenarioGroup;
  /** Relative frequency within its group. */
  readonly weight: number;
  readonly service: string;
  readonly resource: ResourceKind;
  readonly traceName: string;
  readonly traceType: TraceType;
  readonly apiVersion: string;
  /** The HTTP status of success. */
  readonly okCode: string;
  /** Share of failures (rating `warning`) and the statuses they carry. */
  readonly failure?: { readonly rate: number; readonly codes: readonly string[] };
  /** This operation creates something (its request carries a body). */
  readonly creates?: boolean;
}

/** Default relative weight of each group in the mix. */
export const DEFAULT_MIX: Readonly<Record<ScenarioGroup, number>> = {
  iam: 30,
  ecs: 25,
  vpc: 20,
  obs: 10,
  cts: 3,
  system: 12,
};

const apiFailure = { rate: 0.06, codes: ["400", "403", "404", "409", "500"] } as const;

type Base = Pick<Scenario, "group" | "service" | "resource" | "apiVersion">;
type Row = readonly [
  traceName: string,
  weight: number,
  traceType: TraceType,
  okCode: string,
  more?: Pick<Scenario, "creates" | "failure">,
];

/** The scenarios of one group, service, resource and API version: one row per operation. */
function scenarios(base: Base, rows: readonly Row[]): Scenario[] {
  return rows.map(([traceName, weight, traceType, okCode, more]) => ({
    group: base.group,
    weight,
    service: base.service,
    resource: base.resource,
    traceName,
    traceType,
    apiVersion: base.apiVersion,
    okCode,
    ...more,
  }));
}

export const SCENARIOS: readonly Scenario[] = [
  // IAM: logins (including failed ones), user and credential changes.
  ...scenarios({ group: "iam", service: "IAM", resource: "user", apiVersion: "3.0" }, [
    ["login", 30, "ConsoleAction", "200", { failure: { rate: 0.2, codes: ["401"] } }],
    ["logout", 8, "ConsoleAction", "200"],
    ["createUser", 4, "ApiCall", "201", { creates: true, failure: apiFailure }],
    ["updateUser", 3, "ConsoleAction", "200", { creates: true }],
    ["deleteUser", 2, "ApiCall", "204"],
    ["addUserToGroup", 3, "ApiCall", "204"],
    ["changePassword", 3, "ConsoleAction", "204"],
  ]),
  ...scenarios({ group: "iam", service: "IAM", resource: "credential", apiVersion: "3.0" }, [
    ["createCredential", 4, "ApiCall", "201", { creates: true }],
    ["deleteCredential", 2, "ApiCall", "204"],
  ]),
  // ECS
  ...scenarios({ group: "ecs", service: "ECS", resource: "ecs", apiVersion: "1.0" }, [
    ["createServer", 10, "ApiCall", "200", { creates: true, failure: apiFailure }],
    ["deleteServer", 6, "ApiCall", "200", { failure: apiFailure }],
    ["startServer", 8, "ConsoleAction", "200"],
    ["stopServer", 8, "ConsoleAction", "200"],
    ["rebootServer", 4, "ApiCall", "200"],
  ]),
  // VPC
  ...scenarios({ group: "vpc", service: "VPC", resource: "vpc", apiVersion: "1.0" }, [
    ["createVpc", 4, "ApiCall", "200", { creates: true, failure: apiFailure }],
  ]),
  ...scenarios({ group: "vpc", service: "VPC", resource: "subnet", apiVersion: "1.0" }, [
    ["createSubnet", 4, "ApiCall", "200", { creates: true }],
  ]),
  ...scenarios(
    { group: "vpc", service: "VPC", resource: "security_group_rule", apiVersion: "2.0" },
    [
      ["createSecurityGroupRule", 6, "ApiCall", "201", { creates: true, failure: apiFailure }],
      ["deleteSecurityGroupRule", 3, "ConsoleAction", "204"],
    ],
  ),
  ...scenarios({ group: "vpc", service: "VPC", resource: "eip", apiVersion: "1.0" }, [
    ["createEip", 4, "ApiCall", "200", { creates: true }],
    ["deleteEip", 3, "ConsoleAction", "204"],
  ]),
  // OBS
  ...scenarios({ group: "obs", service: "OBS", resource: "bucket", apiVersion: "1.0" }, [
    ["createBucket", 4, "ApiCall", "200", { failure: { rate: 0.1, codes: ["409"] } }],
    ["deleteBucket", 2, "ApiCall", "204"],
    ["setBucketAcl", 3, "ConsoleAction", "200", { creates: true }],
    ["setBucketPolicy", 2, "ApiCall", "204", { creates: true }],
  ]),
  // CTS itself: changing the audit trail is what an intruder does.
  ...scenarios({ group: "cts", service: "CTS", resource: "tracker", apiVersion: "3.0" }, [
    ["updateTracker", 2, "ConsoleAction", "200", { creates: true }],
    ["deleteTracker", 1, "ApiCall", "204"],
  ]),
  // The platform acting on its own: no user, no source IP.
  ...scenarios({ group: "system", service: "ECS", resource: "ecs", apiVersion: "1.0" }, [
    ["autoRecoverServer", 4, "SystemAction", "200"],
  ]),
  ...scenarios({ group: "system", service: "VPC", resource: "eip", apiVersion: "1.0" }, [
    ["releaseEip", 3, "SystemAction", "204"],
  ]),
  ...scenarios({ group: "system", service: "CTS", resource: "tracker", apiVersion: "3.0" }, [
    ["checkTrackerBucket", 2, "SystemAction", "200"],
  ]),
  ...scenarios({ group: "system", service: "IAM", resource: "user", apiVersion: "3.0" }, [
    ["expirePassword", 2, "SystemAction", "200"],
  ]),
];
