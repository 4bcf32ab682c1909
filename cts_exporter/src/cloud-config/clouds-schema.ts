import { z } from "zod";

/**
 * The shape of one cloud in clouds.yaml / secure.yaml (docs/otc-api-notes.md section 7.1): the OpenStack keys
 * gophertelekomcloud and openstacksdk read, plus python-otcextensions' cloud-level AK/SK. Unknown
 * keys are allowed (clouds.yaml files are shared with other tools). Values must be YAML text:
 * an unquoted `password: 0123` would silently become the number 123.
 */
const TEXT = "must be text; put the value in quotes";
const text = z.string({ error: TEXT }).nullish();

const CloudAuthSection = z.looseObject(
  {
    auth_url: text,
    username: text,
    user_id: text,
    password: text,
    project_name: text,
    project_id: text,
    user_domain_name: text,
    user_domain_id: text,
    project_domain_name: text,
    project_domain_id: text,
    domain_name: text,
    domain_id: text,
    ak: text,
    sk: text,
    access_key: text,
    secret_key: text,
    security_token: text,
  },
  { error: "must be a mapping of keys (auth_url, username, ...)" },
);

const region = z.union([z.string(), z.looseObject({ name: z.string() })], {
  error: "each entry must be a region name",
});

export const CloudEntry = z.looseObject(
  {
    profile: text,
    cloud: text,
    auth_type: text,
    region_name: text,
    regions: z.array(region, { error: "must be a list of region names" }).nullish(),
    interface: text,
    endpoint_type: text,
    identity_api_version: z.union([z.string(), z.number()], { error: "must be 3" }).nullish(),
    ak: text,
    sk: text,
    access_key: text,
    secret_key: text,
    security_token: text,
    auth: CloudAuthSection.nullish(),
  },
  { error: "must be a mapping with an auth section" },
);
export type CloudEntry = z.infer<typeof CloudEntry>;

/** A whole clouds.yaml or secure.yaml: a `clouds` mapping of cloud name to entry. */
export const CloudsDocument = z.looseObject(
  {
    clouds: z.record(z.string(), z.unknown(), {
      error: "must be a mapping of cloud names to settings",
    }),
  },
  { error: "must be a mapping with a top-level clouds key" },
);
export type CloudsDocument = z.infer<typeof CloudsDocument>;

/** `auth.password: must be text; ...` for each problem; never the offending value. */
export function describeIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const key = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
      return key === "" ? issue.message : `${key} ${issue.message}`;
    })
    .join("; ");
}
