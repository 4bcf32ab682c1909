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

export const SCENARIOS: readonly Scenario[] = [
  // IAM: logins (including failed ones), user and credential changes.
  {
    group: "iam",
    weight: 30,
    service: "IAM",
    resource: "user",
    traceName: "login",
    traceType: "ConsoleAction",
    apiVersion: "3.0",
    okCode: "200",
    failure: { rate: 0.2, codes: ["401"] },
  },
  {
    group: "iam",
    weight: 8,
    service: "IAM",
    resource: "user",
    traceName: "logout",
    traceType: "ConsoleAction",
    apiVersion: "3.0",
    okCode: "200",
  },
  {
    group: "iam",
    weight: 4,
    service: "IAM",
    resource: "user",
    traceName: "createUser",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "201",
    creates: true,
    failure: apiFailure,
  },
  {
    group: "iam",
    weight: 3,
    service: "IAM",
    resource: "user",
    traceName: "updateUser",
    traceType: "ConsoleAction",
    apiVersion: "3.0",
    okCode: "200",
    creates: true,
  },
  {
    group: "iam",
    weight: 2,
    service: "IAM",
    resource: "user",
    traceName: "deleteUser",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "204",
  },
  {
    group: "iam",
    weight: 3,
    service: "IAM",
    resource: "user",
    traceName: "addUserToGroup",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "204",
  },
  {
    group: "iam",
    weight: 3,
    service: "IAM",
    resource: "user",
    traceName: "changePassword",
    traceType: "ConsoleAction",
    apiVersion: "3.0",
    okCode: "204",
  },
  {
    group: "iam",
    weight: 4,
    service: "IAM",
    resource: "credential",
    traceName: "createCredential",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "201",
    creates: true,
  },
  {
    group: "iam",
    weight: 2,
    service: "IAM",
    resource: "credential",
    traceName: "deleteCredential",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "204",
  },
  // ECS
  {
    group: "ecs",
    weight: 10,
    service: "ECS",
    resource: "ecs",
    traceName: "createServer",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    creates: true,
    failure: apiFailure,
  },
  {
    group: "ecs",
    weight: 6,
    service: "ECS",
    resource: "ecs",
    traceName: "deleteServer",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    failure: apiFailure,
  },
  {
    group: "ecs",
    weight: 8,
    service: "ECS",
    resource: "ecs",
    traceName: "startServer",
    traceType: "ConsoleAction",
    apiVersion: "1.0",
    okCode: "200",
  },
  {
    group: "ecs",
    weight: 8,
    service: "ECS",
    resource: "ecs",
    traceName: "stopServer",
    traceType: "ConsoleAction",
    apiVersion: "1.0",
    okCode: "200",
  },
  {
    group: "ecs",
    weight: 4,
    service: "ECS",
    resource: "ecs",
    traceName: "rebootServer",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
  },
  // VPC
  {
    group: "vpc",
    weight: 4,
    service: "VPC",
    resource: "vpc",
    traceName: "createVpc",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    creates: true,
    failure: apiFailure,
  },
  {
    group: "vpc",
    weight: 4,
    service: "VPC",
    resource: "subnet",
    traceName: "createSubnet",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    creates: true,
  },
  {
    group: "vpc",
    weight: 6,
    service: "VPC",
    resource: "security_group_rule",
    traceName: "createSecurityGroupRule",
    traceType: "ApiCall",
    apiVersion: "2.0",
    okCode: "201",
    creates: true,
    failure: apiFailure,
  },
  {
    group: "vpc",
    weight: 3,
    service: "VPC",
    resource: "security_group_rule",
    traceName: "deleteSecurityGroupRule",
    traceType: "ConsoleAction",
    apiVersion: "2.0",
    okCode: "204",
  },
  {
    group: "vpc",
    weight: 4,
    service: "VPC",
    resource: "eip",
    traceName: "createEip",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    creates: true,
  },
  {
    group: "vpc",
    weight: 3,
    service: "VPC",
    resource: "eip",
    traceName: "deleteEip",
    traceType: "ConsoleAction",
    apiVersion: "1.0",
    okCode: "204",
  },
  // OBS
  {
    group: "obs",
    weight: 4,
    service: "OBS",
    resource: "bucket",
    traceName: "createBucket",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "200",
    failure: { rate: 0.1, codes: ["409"] },
  },
  {
    group: "obs",
    weight: 2,
    service: "OBS",
    resource: "bucket",
    traceName: "deleteBucket",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "204",
  },
  {
    group: "obs",
    weight: 3,
    service: "OBS",
    resource: "bucket",
    traceName: "setBucketAcl",
    traceType: "ConsoleAction",
    apiVersion: "1.0",
    okCode: "200",
    creates: true,
  },
  {
    group: "obs",
    weight: 2,
    service: "OBS",
    resource: "bucket",
    traceName: "setBucketPolicy",
    traceType: "ApiCall",
    apiVersion: "1.0",
    okCode: "204",
    creates: true,
  },
  // CTS itself: changing the audit trail is what an intruder does.
  {
    group: "cts",
    weight: 2,
    service: "CTS",
    resource: "tracker",
    traceName: "updateTracker",
    traceType: "ConsoleAction",
    apiVersion: "3.0",
    okCode: "200",
    creates: true,
  },
  {
    group: "cts",
    weight: 1,
    service: "CTS",
    resource: "tracker",
    traceName: "deleteTracker",
    traceType: "ApiCall",
    apiVersion: "3.0",
    okCode: "204",
  },
  // The platform acting on its own: no user, no source IP.
  {
    group: "system",
    weight: 4,
    service: "ECS",
    resource: "ecs",
    traceName: "autoRecoverServer",
    traceType: "SystemAction",
    apiVersion: "1.0",
    okCode: "200",
  },
  {
    group: "system",
    weight: 3,
    service: "VPC",
    resource: "eip",
    traceName: "releaseEip",
    traceType: "SystemAction",
    apiVersion: "1.0",
    okCode: "204",
  },
  {
    group: "system",
    weight: 2,
    service: "CTS",
    resource: "tracker",
    traceName: "checkTrackerBucket",
    traceType: "SystemAction",
    apiVersion: "3.0",
    okCode: "200",
  },
  {
    group: "system",
    weight: 2,
    service: "IAM",
    resource: "user",
    traceName: "expirePassword",
    traceType: "SystemAction",
    apiVersion: "3.0",
    okCode: "200",
  },
];
