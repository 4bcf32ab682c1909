import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  EMPTY_BODY_SHA256,
  formatQueryString,
  parseQueryString,
  payloadHash,
  percentEncode,
} from "./canonical.js";
import {
  formatSdkDate,
  hmacSignature,
  parseAuthorization,
  parseSdkDate,
  signHttpRequest,
  signRequest,
  verifyRequestSignature,
} from "./signer.js";

const hwGo = { accessKey: "AccessKey", secretKey: "SecretKey" };

describe("SDK-HMAC-SHA256: published vectors (docs/otc-api-notes.md section 5.2)", () => {
  test("1: GET /path?limit=1 signing only x-sdk-date", () => {
    const signed = signRequest(
      {
        method: "GET",
        path: "/path",
        query: [["limit", "1"]],
        headers: { "X-Sdk-Date": "20060102T150405Z" },
      },
      hwGo,
    );
    assert.equal(
      signed.canonicalRequest,
      `GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n${EMPTY_BODY_SHA256}`,
    );
    assert.equal(
      signed.stringToSign,
      "SDK-HMAC-SHA256\n20060102T150405Z\n85c3b7730f308aee452b16138a42a914397e43a8f0d732dfa521c0ef2afa98a4",
    );
    assert.equal(
      signed.authorization,
      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
    );
  });

  test("2: POST with a JSON body hashes the exact bytes, trailing newline included", () => {
    const request = {
      method: "POST",
      path: "/path",
      query: [["key", "value"]] as const,
      headers: { "X-Sdk-Date": "20060102T150405Z" },
    };
    const signed = signRequest({ ...request, body: '{"Name":"test","Id":1}\n' }, hwGo);
    assert.equal(
      signed.authorization,
      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
    );
    const withoutNewline = signRequest({ ...request, body: '{"Name":"test","Id":1}' }, hwGo);
    assert.ok(withoutNewline.signature.startsWith("83599e52"));
  });

  test("3: query encoding sorts keys and repeated values and escapes everything reserved", () => {
    assert.equal(
      canonicalQueryString([
        ["limit", "1"],
        ["enable", "true"],
        ["test", "一 (&=?!#%.*)"],
        ["path", "/tmp/123"],
        ["multi", "3"],
        ["multi", "1"],
        ["multi", "2"],
      ]),
      "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29",
    );
  });

  test("4: the Python APIG signer's canonical request and HMAC", () => {
    const { text } = canonicalRequest({
      method: "POST",
      path: "/app1",
      query: [["a", "1"]],
      headers: { "x-stage": "RELEASE" },
      body: "body",
    });
    assert.equal(
      text,
      "POST\n/app1/\na=1\nx-stage:RELEASE\n\nx-stage\n230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5",
    );
    assert.equal(
      hmacSignature("abc", "abc"),
      "2f02e24ae2e1fe880399f27600afa88364e6062bf9bbe114b32fa8f23d03608a",
    );
  });
});

describe("SDK-HMAC-SHA256: computed OTC vectors (docs/otc-api-notes.md section 5.2)", () => {
  const project = "0391e4486e864c26be5654c522f440f2";
  const now = Date.UTC(2024, 2, 26, 3, 8, 1);
  const sign = (url: string, headers: Record<string, string>) =>
    signHttpRequest(
      {
        method: "GET",
        url: new URL(url),
        headers: { "content-type": "application/json", ...headers },
        now,
      },
      hwGo,
    );

  test("A: CTS v3 trace list with X-Project-Id", () => {
    const url = `https://cts.eu-de.otc.t-systems.com/v3/${project}/traces?trace_type=system&limit=200&from=1711418400000&to=1711422000000`;
    const signed = signRequest(
      {
        method: "GET",
        path: new URL(url).pathname,
        query: parseQueryString(new URL(url).search.slice(1)),
        headers: {
          "content-type": "application/json",
          host: "cts.eu-de.otc.t-systems.com",
          "x-project-id": project,
          "x-sdk-date": "20240326T030801Z",
        },
      },
      hwGo,
    );
    assert.equal(
      signed.canonicalRequest,
      [
        "GET",
        `/v3/${project}/traces/`,
        "from=1711418400000&limit=200&to=1711422000000&trace_type=system",
        "content-type:application/json",
        "host:cts.eu-de.otc.t-systems.com",
        `x-project-id:${project}`,
        "x-sdk-date:20240326T030801Z",
        "",
        "content-type;host;x-project-id;x-sdk-date",
        EMPTY_BODY_SHA256,
      ].join("\n"),
    );
    assert.ok(
      signed.stringToSign.endsWith(
        "\n739bbfa769af5644169734d162dffa93eb9653e98036faea05e4dc0c3ceff06c",
      ),
    );
    const expected =
      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=0b57f95f960552b46b8f0f50dc9b4e6af81f04ce929622e907da900b187ba9f8";
    assert.equal(signed.authorization, expected);
    assert.equal(sign(url, { "X-Project-Id": project })["authorization"], expected);
  });

  test("B: paging marker and a resource name with space, slash, star and tilde", () => {
    const query: [string, string][] = [
      ["trace_type", "system"],
      ["limit", "200"],
      ["next", "e001ccb8-bc09-11e6-b2cc-2640a43cc6e8"],
      ["resource_name", "a b/c*~"],
    ];
    assert.equal(
      canonicalQueryString(query),
      "limit=200&next=e001ccb8-bc09-11e6-b2cc-2640a43cc6e8&resource_name=a%20b%2Fc%2A~&trace_type=system",
    );
    const url = `https://cts.eu-de.otc.t-systems.com/v3/${project}/traces?${formatQueryString(query)}`;
    assert.match(
      sign(url, { "x-project-id": project })["authorization"] ?? "",
      /, Signature=9e923b0ce0ebaba390be70ecb666f7d0f7a00005d3e56010e3215bf5200d54cc$/,
    );
  });

  test("C: IAM project lookup without X-Project-Id", () => {
    const query: [string, string][] = [["name", "eu-de_my project"]];
    assert.equal(canonicalQueryString(query), "name=eu-de_my%20project");
    const headers = sign(
      `https://iam.eu-de.otc.t-systems.com/v3/projects?${formatQueryString(query)}`,
      {},
    );
    assert.equal(
      headers["authorization"],
      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-sdk-date, Signature=a4e2ed04b8e0e54f0e376767d0d78dc3e77dae94f24defc4de67b1f0f55594dd",
    );
    assert.equal(headers["x-sdk-date"], "20240326T030801Z");
    assert.equal(headers["host"], undefined, "fetch sets Host from the URL itself");
  });
});

describe("canonical parts", () => {
  test("the canonical URI re-encodes segments and always ends with a slash", () => {
    assert.equal(canonicalUri(""), "/");
    assert.equal(canonicalUri("/"), "/");
    assert.equal(canonicalUri("/v3/abc/traces/"), "/v3/abc/traces/");
    assert.equal(canonicalUri("/a%20b/c*d"), "/a%20b/c%2Ad/");
  });

  test("percent-encoding keeps only unreserved characters", () => {
    assert.equal(percentEncode("AZaz09-_.~"), "AZaz09-_.~");
    assert.equal(percentEncode("+ */ü"), "%2B%20%2A%2F%C3%BC");
  });

  test("an explicit x-sdk-content-sha256 replaces the body hash", () => {
    const { text } = canonicalRequest({
      method: "PUT",
      path: "/o",
      query: [],
      headers: { "x-sdk-content-sha256": "UNSIGNED-PAYLOAD", "x-sdk-date": "20060102T150405Z" },
      body: "ignored",
    });
    assert.ok(text.endsWith("\nUNSIGNED-PAYLOAD"));
    assert.equal(payloadHash(new Uint8Array()), EMPTY_BODY_SHA256);
  });

  test("X-Sdk-Date formats and parses UTC seconds, and rejects anything else", () => {
    const instant = Date.UTC(2024, 2, 26, 3, 8, 1);
    assert.equal(formatSdkDate(instant + 999), "20240326T030801Z");
    assert.equal(parseSdkDate("20240326T030801Z"), instant);
    for (const bad of ["2024-03-26T03:08:01Z", "20241326T030801Z", "20240326T030801", ""]) {
      assert.equal(parseSdkDate(bad), undefined, bad);
    }
  });

  test("the wire query round-trips through the server's parser for any text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" })), {
          maxLength: 5,
        }),
        (pairs) => {
          const parsed = parseQueryString(formatQueryString(pairs));
          return canonicalQueryString(parsed) === canonicalQueryString(pairs);
        },
      ),
    );
  });
});

describe("server-side verification", () => {
  const keys = new Map([["AK1", "secret-1"]]);
  const now = Date.UTC(2024, 2, 26, 3, 8, 1);
  const url = new URL("http://127.0.0.1:4545/v3/p1/traces?limit=200&resource_name=a%20b");
  const send = (overrides: Partial<{ now: number; host: string; secret: string }> = {}) => {
    const headers = signHttpRequest(
      {
        method: "GET",
        url,
        headers: { "content-type": "application/json" },
        now: overrides.now ?? now,
      },
      { accessKey: "AK1", secretKey: overrides.secret ?? "secret-1" },
    );
    return verifyRequestSignature(
      {
        method: "GET",
        target: `${url.pathname}${url.search}`,
        headers: { ...headers, host: overrides.host ?? url.host },
      },
      { secretKeyOf: (ak) => keys.get(ak), now },
    );
  };

  test("accepts a request signed for the Host it arrives with", () => {
    assert.deepEqual(send(), { ok: true, accessKey: "AK1" });
  });

  test("refuses another Host, a wrong secret, an unknown key and a stale date", () => {
    assert.equal(send({ host: "localhost:4545" }).ok, false);
    assert.deepEqual(send({ secret: "wrong" }), {
      ok: false,
      reason: "signature-mismatch",
      accessKey: "AK1",
    });
    assert.equal(
      verifyRequestSignature(
        {
          method: "GET",
          target: "/",
          headers: {
            authorization:
              "SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=x-sdk-date, Signature=" + "0".repeat(64),
            "x-sdk-date": "20240326T030801Z",
          },
        },
        { secretKeyOf: (ak) => keys.get(ak), now },
      ).ok,
      false,
    );
    const fifteenMinutes = 15 * 60 * 1000;
    assert.equal(send({ now: now - fifteenMinutes }).ok, true, "exactly 15 minutes is allowed");
    assert.deepEqual(send({ now: now - fifteenMinutes - 1000 }), {
      ok: false,
      reason: "date-skew",
      accessKey: "AK1",
    });
  });

  test("parses the Authorization header and rejects other schemes", () => {
    assert.deepEqual(
      parseAuthorization(
        `SDK-HMAC-SHA256 Access=AK, SignedHeaders=Host;X-Sdk-Date, Signature=${"a".repeat(64)}`,
      ),
      { accessKey: "AK", signedHeaders: ["host", "x-sdk-date"], signature: "a".repeat(64) },
    );
    assert.equal(parseAuthorization("Bearer abc"), undefined);
    assert.equal(parseAuthorization("SDK-HMAC-SHA256 Access=AK, Signature=zz"), undefined);
  });
});
