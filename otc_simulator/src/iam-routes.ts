import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { Clock } from "./clock.js";
import { json, keystoneError, type Reply } from "./http-util.js";
import type { SimIdentity } from "./identity.js";
import { authenticate, type TokenRegistry } from "./request-auth.js";

/** What IAM and CTS handlers share. */
export interface SimContext {
  /** The primary project's identity (the one clouds.yaml names). */
  readonly identity: SimIdentity;
  /** Every project of the account, the primary one first, by id; each with its own identity. */
  readonly projects: ReadonlyMap<string, { readonly identity: SimIdentity }>;
  readonly tokens: TokenRegistry;
  readonly clock: Clock;
  readonly catalogCtsv3: boolean;
  readonly maxSkewMs: number;
}

/** A request as the routes see it. */
export interface RouteRequest {
  readonly method: string;
  /** The path, undecoded, without query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Path and query as received (the signature covers it). */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `http://<Host received>`: the catalog points clients back at the address they used. */
  readonly baseUrl: string;
}

const Domain = z.looseObject({ id: z.string().optional(), name: z.string().optional() });
const TokenRequest = z.looseObject({
  auth: z.looseObject({
    identity: z.looseObject({
      methods: z.array(z.string()).min(1),
      password: z
        .looseObject({
          user: z.looseObject({
            id: z.string().optional(),
            name: z.string().optional(),
            password: z.string(),
            domain: Domain.optional(),
          }),
        })
        .optional(),
    }),
    scope: z
      .looseObject({
        project: z
          .looseObject({
            id: z.string().optional(),
            name: z.string().optional(),
            domain: Domain.optional(),
          })
          .optional(),
        domain: Domain.optional(),
      })
      .optional(),
  }),
});

/** Millisecond timestamps as IAM prints them: six fractional digits and `Z`. */
function iamTime(epochMillis: number): string {
  return new Date(epochMillis).toISOString().replace("Z", "000Z");
}

/** The service catalog (docs/otc-api-notes.md section 1): CTS v1 and v2 entries, optionally ctsv3, all pointing here. */
export function catalog(context: SimContext, baseUrl: string): unknown[] {
  const { identity } = context;
  const endpoint = (url: string, region = identity.region) => ({
    id: `${url.length.toString(16)}${identity.projectId.slice(0, 24)}`,
    interface: "public",
    region,
    region_id: region,
    url,
  });
  const entries = [
    {
      type: "identity",
      name: "iam",
      endpoints: [endpoint(`${baseUrl}/v3`), endpoint(`${baseUrl}/v3`, "*")],
    },
    { type: "cts", name: "cts", endpoints: [endpoint(`${baseUrl}/v1.0/${identity.projectId}`)] },
    {
      type: "ctsv2",
      name: "ctsv2",
      endpoints: [endpoint(`${baseUrl}/v2.0/${identity.projectId}`)],
    },
    {
      type: "compute",
      name: "nova",
      endpoints: [
        endpoint(`https://ecs.${identity.region}.otc.t-systems.com/v2.1/${identity.projectId}`),
      ],
    },
  ];
  if (context.catalogCtsv3) {
    entries.push({
      type: "ctsv3",
      name: "ctsv3",
      endpoints: [endpoint(`${baseUrl}/v3/${identity.projectId}`)],
    });
  }
  return entries.map((entry, index) => ({ id: `catalog-${index}`, ...entry }));
}

function project(identity: SimIdentity, baseUrl: string) {
  return {
    id: identity.projectId,
    name: identity.projectName,
    domain_id: identity.domainId,
    parent_id: identity.domainId,
    is_domain: false,
    enabled: true,
    description: `the simulator's project in ${identity.region}`,
    links: { self: `${baseUrl}/v3/projects/${identity.projectId}` },
  };
}

const versionDocument = (baseUrl: string) => ({
  id: "v3.6",
  status: "stable",
  updated: "2016-04-04T00:00:00Z",
  links: [{ rel: "self", href: `${baseUrl}/v3/` }],
  "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
});

/** `POST /v3/auth/tokens`: password method, project scope by id or name (docs/otc-api-notes.md section 4). */
function issueToken(request: RouteRequest, context: SimContext): Reply {
  let parsed: z.infer<typeof TokenRequest>;
  try {
    parsed = TokenRequest.parse(JSON.parse(request.body.toString("utf8")));
  } catch {
    return keystoneError(
      400,
      "The request body is not a valid token request: expected auth.identity.methods and credentials.",
    );
  }
  const { identity: idSection, scope } = parsed.auth;
  const { identity } = context;
  const user = idSection.password?.user;
  if (!idSection.methods.includes("password") || user === undefined) {
    return keystoneError(401, "The simulator supports the password method only.");
  }
  const domainMatches =
    user.domain !== undefined &&
    (user.domain.id === identity.domainId || user.domain.name === identity.domainName);
  const userMatches =
    user.id === undefined
      ? user.name === identity.username && domainMatches
      : user.id === identity.userId;
  if (!userMatches || user.password !== identity.password) {
    return keystoneError(401, "The username or password is wrong.");
  }
  let scoped: SimIdentity | undefined;
  if (scope?.project !== undefined) {
    const wanted = scope.project;
    scoped = [...context.projects.values()]
      .map((space) => space.identity)
      .find((candidate) =>
        wanted.id === undefined
          ? wanted.name === candidate.projectName
          : wanted.id === candidate.projectId,
      );
    if (scoped === undefined)
      return keystoneError(
        401,
        "The project in the scope does not exist or the user has no access to it.",
      );
  }
  const projectId = scoped?.projectId;
  const token = context.tokens.issue(identity.userId, projectId);
  const domain = { id: identity.domainId, name: identity.domainName };
  const body = {
    token: {
      methods: ["password"],
      expires_at: iamTime(token.expiresAt),
      issued_at: iamTime(token.issuedAt),
      user: {
        id: identity.userId,
        name: identity.username,
        domain,
        password_expires_at: "",
      },
      ...(scoped === undefined
        ? { domain }
        : { project: { id: scoped.projectId, name: scoped.projectName, domain } }),
      roles: [{ id: "0".repeat(32), name: "te_admin" }],
      ...(request.query.has("nocatalog")
        ? {}
        : { catalog: catalog({ ...context, identity: scoped ?? identity }, request.baseUrl) }),
    },
  };
  return json(201, body, { "x-subject-token": token.value });
}

/** IAM's routes; `undefined` when the path is not IAM's. */
export function routeIam(request: RouteRequest, context: SimContext): Reply | undefined {
  const { path, method, baseUrl } = request;
  if (method === "GET" && path === "/") {
    return json(300, { versions: { values: [versionDocument(baseUrl)] } });
  }
  if (method === "GET" && (path === "/v3" || path === "/v3/")) {
    return json(200, { version: versionDocument(baseUrl) });
  }
  if (path === "/v3/auth/tokens") {
    return method === "POST"
      ? issueToken(request, context)
      : keystoneError(400, "Use POST to obtain a token.");
  }
  const isCatalog = path === "/v3/auth/catalog";
  const isAuthProjects = path === "/v3/auth/projects";
  const projectMatch = /^\/v3\/projects(?:\/([^/]+))?\/?$/.exec(path);
  if (!isCatalog && !isAuthProjects && projectMatch === null) return undefined;

  const auth = authenticate(request, context);
  if (!auth.ok) return auth.reply;
  const all = [...context.projects.values()].map((space) => project(space.identity, baseUrl));
  if (isCatalog) {
    // The catalog of the project the request is scoped to (token scope or X-Project-Id).
    const scopedId =
      auth.principal.kind === "token" ? auth.principal.token.projectId : auth.principal.projectId;
    const scoped = context.projects.get(scopedId ?? "")?.identity ?? context.identity;
    return json(200, {
      catalog: catalog({ ...context, identity: scoped }, baseUrl),
      links: { self: `${baseUrl}/v3/auth/catalog` },
    });
  }
  if (isAuthProjects) {
    // The projects the caller may scope a token to: every project of the account here.
    return json(200, { links: { self: `${baseUrl}/v3/auth/projects` }, projects: all });
  }
  const [, projectId] = projectMatch ?? [];
  if (projectId !== undefined) {
    const found = all.find((candidate) => candidate.id === decodeURIComponent(projectId));
    return found === undefined
      ? keystoneError(404, `Could not find project: ${decodeURIComponent(projectId)}.`)
      : json(200, { project: found });
  }
  const name = request.query.get("name");
  const domainId = request.query.get("domain_id");
  return json(200, {
    links: { self: `${baseUrl}/v3/projects`, previous: null, next: null },
    projects: all.filter(
      (candidate) =>
        (name === null || name === candidate.name) &&
        (domainId === null || domainId === candidate.domain_id),
    ),
  });
}
