import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { AppError, ErrorCode } from "@cts/shared";
import type { SenderIdentityConfig } from "../config.js";

/** Who sent a request, as the verified token says. */
export interface Sender {
  readonly subject: string | undefined;
}

export type VerifySender = (authorization: string | undefined) => Promise<Sender>;

const DISCOVERY_TIMEOUT_MS = 5_000;
/** Servers' and senders' clocks drift; Kubernetes tokens live for an hour or more. */
const CLOCK_TOLERANCE_SECONDS = 30;

function unauthenticated(reason: string): AppError {
  return new AppError(
    ErrorCode.SENDER_UNAUTHENTICATED,
    `${reason}; this sink requires an OIDC bearer token for its audience (SINK_OIDC_AUDIENCE)`,
  );
}

function issuerUnavailable(where: string, cause: unknown): AppError {
  return new AppError(
    ErrorCode.OIDC_ISSUER_UNAVAILABLE,
    `the OIDC issuer's keys could not be fetched from ${where}; the sender should retry`,
    { cause, retryable: true },
  );
}

/** Reads `jwks_uri` from the issuer's discovery document, checking it speaks for that issuer. */
async function discoverJwksUri(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    throw issuerUnavailable(url, error);
  }
  if (document.issuer !== issuer || typeof document.jwks_uri !== "string") {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `${url} does not describe issuer ${issuer} (it names ${String(document.issuer)}): ` +
        "set SINK_OIDC_ISSUER to the exact issuer of the senders' tokens",
    );
  }
  return new URL(document.jwks_uri);
}

/** Why a token failed, in words that name the claim but never echo the token. */
function rejection(error: unknown): AppError {
  if (error instanceof errors.JWTExpired) return unauthenticated("the bearer token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return unauthenticated(
      `the bearer token's "${error.claim}" claim is not accepted (${error.reason})`,
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return unauthenticated("the bearer token is signed with a key the issuer does not publish");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return unauthenticated("the bearer token's signature does not verify");
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return issuerUnavailable("the issuer's JWKS", error);
  }
  if (error instanceof errors.JOSEError)
    return unauthenticated("the bearer token is not a valid JWT");
  // fetch failures of the JWKS surface as plain errors: the issuer, not the sender, is at fault.
  return issuerUnavailable("the issuer's JWKS", error);
}

/**
 * A verifier for `Authorization: Bearer <jwt>`: issuer, audience, expiry and signature against
 * the issuer's published keys (cached and refetched on an unknown key id by jose). A missing or
 * invalid token is SENDER_UNAUTHENTICATED (401); an unreachable issuer is
 * OIDC_ISSUER_UNAVAILABLE (503, the sender retries) so no event is refused for the sink's own
 * trouble.
 */
export function createSenderVerifier(config: SenderIdentityConfig): VerifySender {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const jwks = () => {
    keys ??= (async () => {
      const uri =
        config.jwksUri === undefined
          ? await discoverJwksUri(config.issuer)
          : new URL(config.jwksUri);
      return createRemoteJWKSet(uri, { timeoutDuration: DISCOVERY_TIMEOUT_MS });
    })().catch((error: unknown) => {
      keys = undefined; // the next request tries the discovery again
      throw error;
    });
    return keys;
  };
  return async (authorization) => {
    if (authorization === undefined || authorization === "") {
      throw unauthenticated("the request has no Authorization header");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined)
      throw unauthenticated("the Authorization header is not 'Bearer <token>'");
    const keySet = await jwks();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], keySet, {
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw rejection(error);
    }
    return { subject: payload.sub };
  };
}
