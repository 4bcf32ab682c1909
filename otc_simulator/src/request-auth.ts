import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { verifyRequestSignature, type SignatureFailure } from "@cts/shared";
import type { Clock } from "./clock.js";
import { gatewayError, type Reply } from "./http-util.js";
import type { SimIdentity } from "./identity.js";

/** An IAM token the simulator issued. */
interface IssuedToken {
  readonly value: string;
  readonly userId: string;
  /** Undefined for a token without project scope, which CTS refuses. */
  readonly projectId: string | undefined;
  readonly issuedAt: number;
  expiresAt: number;
}

/** Issued tokens by value; expiry follows the simulator's clock. */
export interface TokenRegistry {
  issue(userId: string, projectId: string | undefined): IssuedToken;
  lookup(value: string): IssuedToken | undefined;
  /** Every token issued so far expires now (clients must renew). */
  expireAll(): void;
  /** The values of every token issued so far, oldest first (expired ones included). */
  values(): string[];
  readonly issued: number;
}

export function createTokenRegistry(clock: Clock, ttlMs: number): TokenRegistry {
  const tokens = new Map<string, IssuedToken>();
  let issued = 0;
  return {
    issue(userId, projectId) {
      const now = clock.now();
      // Real tokens are long PKI blobs starting "MII"; length matters for header limits.
      const value = `MIIT${randomBytes(192).toString("base64url")}`;
      const token = { value, userId, projectId, issuedAt: now, expiresAt: now + ttlMs };
      tokens.set(value, token);
      issued++;
      return token;
    },
    lookup: (value) => tokens.get(value),
    expireAll() {
      const now = clock.now();
      for (const token of tokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
    },
    values: () => [...tokens.keys()],
    get issued() {
      return issued;
    },
  };
}

/** Who made an authenticated request. */
type Principal =
  | { readonly kind: "token"; readonly token: IssuedToken }
  | { readonly kind: "aksk"; readonly accessKey: string; readonly projectId: string | undefined };

type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reply: Reply };

const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  malformed:
    "Incorrect IAM authentication information: unsupported or malformed Authorization header",
  "unknown-access-key":
    "Incorrect IAM authentication information: Get secretKey failed,ak:******,err:ak not exist",
  "missing-signed-header": "Incorrect IAM authentication information: a signed header is missing",
  "date-invalid": "Incorrect IAM authentication information: X-Sdk-Date is missing or malformed",
  "date-skew":
    "Incorrect IAM authentication information: X-Sdk-Date differs from the server time by more than 15 minutes",
  "signature-mismatch": "Incorrect IAM authentication information: verify aksk signature fail",
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks `X-Auth-Token` (known and not expired) or an SDK-HMAC-SHA256 signature (verified
 * against the headers actually received, `Host` included, within the allowed skew), answering
 * failures as the API Gateway does: 401 APIG.0307 for an expired token, APIG.0301 otherwise.
 */
export function authenticate(
  request: { method: string; target: string; headers: IncomingHttpHeaders; body: Buffer },
  context: { tokens: TokenRegistry; identity: SimIdentity; clock: Clock; maxSkewMs: number },
): AuthResult {
  const tokenValue = header(request.headers, "x-auth-token");
  if (tokenValue !== undefined) {
    const token = context.tokens.lookup(tokenValue);
    if (token === undefined) {
      return {
        ok: false,
        reply: gatewayError(
          401,
          "APIG.0301",
          "Incorrect IAM authentication information: decrypt token fail",
        ),
      };
    }
    if (context.clock.now() >= token.expiresAt) {
      return { ok: false, reply: gatewayError(401, "APIG.0307", "The token must be updated.") };
    }
    return { ok: true, principal: { kind: "token", token } };
  }
  if (header(request.headers, "authorization") !== undefined) {
    const check = verifyRequestSignature(
      {
        method: request.method,
        target: request.target,
        headers: request.headers,
        body: request.body,
      },
      {
        secretKeyOf: (accessKey) =>
          accessKey === context.identity.accessKey ? context.identity.secretKey : undefined,
        now: context.clock.now(),
        maxSkewMs: context.maxSkewMs,
      },
    );
    if (!check.ok)
      return { ok: false, reply: gatewayError(401, "APIG.0301", SIGNATURE_MESSAGES[check.reason]) };
    return {
      ok: true,
      principal: {
        kind: "aksk",
        accessKey: check.accessKey,
        projectId: header(request.headers, "x-project-id"),
      },
    };
  }
  return {
    ok: false,
    reply: gatewayError(
      401,
      "APIG.0301",
      "Incorrect IAM authentication information: no X-Auth-Token and no signature",
    ),
  };
}

/** Whether the principal may act on `projectId` (token scope, or X-Project-Id when signed). */
export function mayAccessProject(
  principal: Principal,
  projectId: string,
  identity: SimIdentity,
): boolean {
  if (projectId !== identity.projectId) return false;
  if (principal.kind === "token") return principal.token.projectId === projectId;
  return principal.projectId === undefined || principal.projectId === projectId;
}
