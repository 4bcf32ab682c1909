import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

/**
 * A local OIDC issuer standing in for the Kubernetes API server's service-account issuer:
 * discovery at `/.well-known/openid-configuration`, keys at `/keys`, and tokens signed the way
 * a projected ServiceAccount token is (RS256, `kid`, `iss`, `aud`, `sub`, `exp`).
 */
export interface OidcIssuer {
  /** e.g. http://127.0.0.1:41234 (the `iss` of its tokens). */
  readonly issuer: string;
  readonly jwksUri: string;
  /** A signed token; `claims` override the defaults, `key: "foreign"` signs with a key it does not publish. */
  token(options?: {
    audience?: string;
    subject?: string;
    issuer?: string;
    expiresInSeconds?: number;
    key?: "published" | "foreign";
    kid?: string;
  }): Promise<string>;
  /** Requests served per path, to see caching. */
  requests(path: string): number;
  /** While down, every request is answered 503 (an unreachable issuer). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const KID = "test-key-1";

export async function startOidcIssuer(): Promise<OidcIssuer> {
  const published = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const jwk: JWK = {
    ...(await exportJWK(published.publicKey)),
    kid: KID,
    alg: "RS256",
    use: "sig",
  };
  const counts = new Map<string, number>();
  let down = false;
  let base = "";
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (down) {
      response.writeHead(503).end();
      return;
    }
    const json = (body: unknown) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (path === "/.well-known/openid-configuration") {
      json({
        issuer: base,
        jwks_uri: `${base}/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
      });
    } else if (path === "/keys") {
      json({ keys: [jwk] });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUri: `${base}/keys`,
    async token(options = {}) {
      const key: CryptoKey = options.key === "foreign" ? foreign.privateKey : published.privateKey;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: options.kid ?? KID })
        .setIssuer(options.issuer ?? base)
        .setAudience(options.audience ?? "neo4j-sink")
        .setSubject(options.subject ?? "system:serviceaccount:cts:cts-exporter")
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
        .sign(key);
    },
    requests: (path) => counts.get(path) ?? 0,
    setDown(value) {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
