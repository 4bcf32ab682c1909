import type { Simulator } from "../../src/index.js";

/**
 * A Keystone v3 password-method token request for the simulator's user (by name, in its domain),
 * scoped to its project by name unless `overrides` say otherwise.
 */
export function tokenRequest(sim: Simulator, overrides: { user?: object; scope?: object } = {}) {
  const { credentials } = sim;
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: {
          user: overrides.user ?? {
            name: credentials.username,
            password: credentials.password,
            domain: { name: credentials.domainName },
          },
        },
      },
      scope: overrides.scope ?? { project: { name: credentials.projectName } },
    },
  };
}

/** `POST /v3/auth/tokens[query]`: the answer, its X-Subject-Token and its JSON body. */
export async function postToken(sim: Simulator, request: unknown, query = "") {
  const response = await fetch(`${sim.iamUrl}/auth/tokens${query}`, {
    method: "POST",
    headers: { "content-type": "application/json;charset=utf8" },
    body: JSON.stringify(request),
  });
  const body: unknown = await response.json();
  return { response, token: response.headers.get("x-subject-token") ?? "", body };
}
