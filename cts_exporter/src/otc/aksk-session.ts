import { AppError, ErrorCode, formatQueryString, signHttpRequest, type Logger } from "@cts/shared";
import { z } from "zod";
import { Catalog, type CatalogEntry } from "./catalog.js";
import { describeSource, type AkSkCredentials, type CloudConfig } from "../cloud-config/index.js";
import { IAM_FAILURES, type Authenticator, type OtcHttp } from "./otc-http.js";

/**
 * Signs every request with SDK-HMAC-SHA256 (docs/otc-api-notes.md section 5.1): `content-type`, `host`,
 * `x-sdk-date` and, once known, `x-project-id` (plus `x-security-token` for temporary keys).
 */
function akskAuthenticator(
  credentials: AkSkCredentials,
  context: { projectId: string | undefined; now: () => number },
): Authenticator {
  return {
    method: "aksk",
    headers: (request, headers) => {
      const extra: Record<string, string> = {};
      if (context.projectId !== undefined) extra["x-project-id"] = context.projectId;
      if (credentials.securityToken !== undefined) {
        extra["x-security-token"] = credentials.securityToken.reveal();
      }
      return Promise.resolve(
        signHttpRequest(
          {
            method: request.method,
            url: request.url,
            headers: { ...headers, ...extra },
            ...(request.body === undefined ? {} : { body: request.body }),
            now: context.now(),
          },
          { accessKey: credentials.accessKey, secretKey: credentials.secretKey.reveal() },
        ),
      );
    },
    renew: () => false,
  };
}

const Project = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  domain_id: z.string().nullish(),
});
const ProjectList = z.looseObject({ projects: z.array(Project) });
const ProjectDetails = z.looseObject({ project: Project });
const CatalogBody = z.looseObject({ catalog: Catalog });

/** What AK/SK discovery learns (docs/otc-api-notes.md section 5.5). */
interface AkSkSession {
  readonly projectId: string;
  readonly projectName: string | undefined;
  readonly domainId: string | undefined;
  readonly catalog: readonly CatalogEntry[];
  readonly authenticator: Authenticator;
}

function parseBody<T>(schema: z.ZodType<T>, text: string, what: string): T {
  try {
    return schema.parse(JSON.parse(text));
  } catch {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `${what} answered something that is not IAM's JSON; is auth.auth_url the IAM endpoint?`,
    );
  }
}

/**
 * The GTC sequence without a token: the project id by name (`GET /v3/projects?name=`), unless
 * configured, then the catalog (`GET /v3/auth/catalog`, with X-Project-Id).
 */
export async function openAkSkSession(deps: {
  readonly http: OtcHttp;
  readonly config: CloudConfig;
  readonly credentials: AkSkCredentials;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}): Promise<AkSkSession> {
  const { http, config } = deps;
  const where = describeSource(config);
  const hint = `check auth.ak and auth.sk of ${where}, and that this machine's clock is right`;
  const unscoped = akskAuthenticator(deps.credentials, { projectId: undefined, now: deps.now });

  let projectId = config.projectId;
  let projectName = config.projectName;
  let domainId = config.domainId;
  if (projectId === undefined) {
    const url = new URL(`${config.authUrl}/projects`);
    url.search = formatQueryString([["name", projectName ?? ""]]);
    const response = await http.send(
      { method: "GET", url, what: "IAM project lookup", signal: deps.signal },
      { auth: unscoped, failures: IAM_FAILURES, hint },
    );
    const [project] = parseBody(ProjectList, response.text, "IAM project lookup").projects;
    if (project === undefined) {
      throw new AppError(
        ErrorCode.CLOUD_AUTH_FAILED,
        `IAM knows no project "${projectName ?? ""}" for this access key; check auth.project_name of ${where}`,
      );
    }
    projectId = project.id;
    domainId ??= project.domain_id ?? undefined;
  } else if (domainId === undefined || projectName === undefined) {
    // Only for the domain id and the region prefix; CTS works without them.
    const url = new URL(`${config.authUrl}/projects/${encodeURIComponent(projectId)}`);
    try {
      const response = await http.send(
        { method: "GET", url, what: "IAM project details", signal: deps.signal },
        { auth: unscoped, failures: IAM_FAILURES, hint },
      );
      const { project } = parseBody(ProjectDetails, response.text, "IAM project details");
      domainId ??= project.domain_id ?? undefined;
      projectName ??= project.name ?? undefined;
    } catch (error) {
      if (deps.signal?.aborted === true) throw error;
      deps.logger.warn(
        { projectId, code: (error as AppError).code },
        "project details unavailable; the domain id stays unknown",
      );
    }
  }

  const authenticator = akskAuthenticator(deps.credentials, { projectId, now: deps.now });
  const response = await http.send(
    {
      method: "GET",
      url: new URL(`${config.authUrl}/auth/catalog`),
      what: "IAM catalog request",
      signal: deps.signal,
    },
    { auth: authenticator, failures: IAM_FAILURES, hint },
  );
  const { catalog } = parseBody(CatalogBody, response.text, "IAM catalog request");
  return { projectId, projectName, domainId, catalog, authenticator };
}
