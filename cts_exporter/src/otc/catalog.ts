import { z } from "zod";
import { AppError, ErrorCode } from "@cts/shared";
import type { EndpointInterface } from "../cloud-config/index.js";

/** A service catalog entry as IAM returns it in a token or from `GET /v3/auth/catalog`. */
export const CatalogEntry = z.looseObject({
  type: z.string(),
  name: z.string().nullish(),
  endpoints: z.array(
    z.looseObject({
      interface: z.string().nullish(),
      region: z.string().nullish(),
      region_id: z.string().nullish(),
      url: z.string(),
    }),
  ),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;
export const Catalog = z.array(CatalogEntry);

/**
 * The CTS_ENDPOINT override as a URL, or undefined when it is unset or empty. The one check of
 * that variable: the configuration reports it at start, the client relies on it.
 * @throws AppError CONFIG_INVALID when it is not an http(s) URL.
 */
export function parseCtsEndpoint(value: string | undefined): string | undefined {
  const text = value?.trim() ?? "";
  if (text === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol === "http:" || url?.protocol === "https:") return url.toString();
  throw new AppError(
    ErrorCode.CONFIG_INVALID,
    `CTS_ENDPOINT must be an http(s) URL such as https://cts.eu-de.otc.t-systems.com, got "${text}"`,
  );
}

/** How an endpoint was chosen, for the start-up log line. */
type CtsEndpointSource = "CTS_ENDPOINT" | "catalog ctsv3" | "catalog cts" | "default host";

/**
 * The URL of the first endpoint of `type` with the wanted interface, preferring the wanted
 * region (GTC's matching: type, then interface, then region; first match wins). An endpoint of
 * another region is taken only when none matches, since region names in catalogs vary (`*`).
 */
export function findEndpoint(
  catalog: readonly CatalogEntry[],
  want: { type: string; interface: EndpointInterface; region: string | undefined },
): string | undefined {
  const candidates = catalog
    .filter((entry) => entry.type === want.type)
    .flatMap((entry) => entry.endpoints)
    .filter((endpoint) => (endpoint.interface ?? "public") === want.interface);
  const inRegion = candidates.find(
    (endpoint) =>
      want.region === undefined ||
      endpoint.region === want.region ||
      endpoint.region_id === want.region,
  );
  return (inRegion ?? candidates[0])?.url;
}

/**
 * `<base>/v3/<project_id>` from any CTS URL: catalog templates `$(tenant_id)s` filled in, and a
 * trailing version (and project) segment such as `/v1.0/<pid>` replaced, so the `cts` (v1)
 * entry, a `ctsv3` entry and a bare `CTS_ENDPOINT` host all give the v3 endpoint.
 */
export function ctsV3Url(raw: string, projectId: string): string {
  const url = new URL(
    raw.replaceAll("$(tenant_id)s", projectId).replaceAll("$(project_id)s", projectId),
  );
  const base = url.pathname.replace(/\/+$/, "").replace(/\/v\d+(\.\d+)?(\/[^/]*)?$/, "");
  url.pathname = `${base}/v3/${projectId}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/**
 * The project's CTS v3 endpoint (docs/otc-api-notes.md section 1): `CTS_ENDPOINT` if set, else the catalog's
 * `ctsv3` entry, else its `cts` entry rewritten to `/v3/<project_id>`, else
 * `https://cts.<region>.otc.t-systems.com/v3/<project_id>`.
 */
export function resolveCtsEndpoint(input: {
  readonly override: string | undefined;
  readonly catalog: readonly CatalogEntry[];
  readonly projectId: string;
  readonly region: string | undefined;
  readonly interface: EndpointInterface;
}): { url: string; source: CtsEndpointSource } | undefined {
  if (input.override !== undefined) {
    return { url: ctsV3Url(input.override, input.projectId), source: "CTS_ENDPOINT" };
  }
  const want = { interface: input.interface, region: input.region };
  const v3 = findEndpoint(input.catalog, { ...want, type: "ctsv3" });
  if (v3 !== undefined) return { url: ctsV3Url(v3, input.projectId), source: "catalog ctsv3" };
  const v1 = findEndpoint(input.catalog, { ...want, type: "cts" });
  if (v1 !== undefined) return { url: ctsV3Url(v1, input.projectId), source: "catalog cts" };
  if (input.region === undefined) return undefined;
  return {
    url: `https://cts.${input.region}.otc.t-systems.com/v3/${input.projectId}`,
    source: "default host",
  };
}
