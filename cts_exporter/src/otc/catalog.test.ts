import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ctsV3Url,
  findEndpoint,
  parseCtsEndpoint,
  resolveCtsEndpoint,
  type CatalogEntry,
} from "./catalog.js";
import { formatServiceError, parseServiceError } from "./error-body.js";

const PID = "0391e4486e864c26be5654c522f440f2";
const entry = (type: string, url: string, region = "eu-de", iface = "public"): CatalogEntry => ({
  type,
  endpoints: [{ interface: iface, region, region_id: region, url }],
});

describe("CTS endpoint discovery", () => {
  test("CTS_ENDPOINT: unset or blank is no override, an http(s) URL is kept, anything else fails", () => {
    assert.equal(parseCtsEndpoint(undefined), undefined);
    assert.equal(parseCtsEndpoint("  "), undefined);
    assert.equal(
      parseCtsEndpoint(" https://cts.eu-de.otc.t-systems.com "),
      "https://cts.eu-de.otc.t-systems.com/",
    );
    for (const bad of ["cts.eu-de.otc.t-systems.com", "ftp://cts.example", "https://"]) {
      assert.throws(() => parseCtsEndpoint(bad), { code: "CONFIG_INVALID" }, bad);
    }
  });

  test("every CTS URL form becomes <base>/v3/<project_id>", () => {
    const cases: [string, string][] = [
      [
        `https://cts.eu-de.otc.t-systems.com/v1.0/${PID}`,
        `https://cts.eu-de.otc.t-systems.com/v3/${PID}`,
      ],
      [
        "https://cts.eu-de.otc.t-systems.com/v1.0/$(tenant_id)s",
        `https://cts.eu-de.otc.t-systems.com/v3/${PID}`,
      ],
      [
        `https://cts.eu-de.otc.t-systems.com/v3/${PID}/`,
        `https://cts.eu-de.otc.t-systems.com/v3/${PID}`,
      ],
      ["https://cts.eu-de.otc.t-systems.com/v3", `https://cts.eu-de.otc.t-systems.com/v3/${PID}`],
      ["https://cts.eu-de.otc.t-systems.com", `https://cts.eu-de.otc.t-systems.com/v3/${PID}`],
      ["http://127.0.0.1:4545/", `http://127.0.0.1:4545/v3/${PID}`],
      [`https://gateway.example/cts/v2.0/${PID}`, `https://gateway.example/cts/v3/${PID}`],
    ];
    for (const [raw, expected] of cases) assert.equal(ctsV3Url(raw, PID), expected, raw);
  });

  test("CTS_ENDPOINT, then ctsv3, then cts, then the default host", () => {
    const v1 = entry("cts", `https://cts-v1.example/v1.0/${PID}`);
    const v3 = entry("ctsv3", `https://cts-v3.example/v3/${PID}`);
    const base = { projectId: PID, region: "eu-de", interface: "public" as const };
    assert.deepEqual(
      resolveCtsEndpoint({ ...base, override: "https://override.example", catalog: [v1, v3] }),
      {
        url: `https://override.example/v3/${PID}`,
        source: "CTS_ENDPOINT",
      },
    );
    assert.equal(
      resolveCtsEndpoint({ ...base, override: undefined, catalog: [v1, v3] })?.source,
      "catalog ctsv3",
    );
    assert.deepEqual(resolveCtsEndpoint({ ...base, override: undefined, catalog: [v1] }), {
      url: `https://cts-v1.example/v3/${PID}`,
      source: "catalog cts",
    });
    assert.deepEqual(resolveCtsEndpoint({ ...base, override: undefined, catalog: [] }), {
      url: `https://cts.eu-de.otc.t-systems.com/v3/${PID}`,
      source: "default host",
    });
    assert.equal(
      resolveCtsEndpoint({ ...base, region: undefined, override: undefined, catalog: [] }),
      undefined,
    );
  });

  test("endpoints match type and interface, preferring the region", () => {
    const catalog = [
      entry("cts", "https://internal.example/v1.0/x", "eu-de", "internal"),
      entry("cts", "https://nl.example/v1.0/x", "eu-nl"),
      entry("cts", "https://de.example/v1.0/x", "eu-de"),
    ];
    assert.equal(
      findEndpoint(catalog, { type: "cts", interface: "public", region: "eu-de" }),
      "https://de.example/v1.0/x",
    );
    assert.equal(
      findEndpoint(catalog, { type: "cts", interface: "internal", region: "eu-de" }),
      "https://internal.example/v1.0/x",
    );
    assert.equal(
      findEndpoint(catalog, { type: "cts", interface: "public", region: "eu-ch2" }),
      "https://nl.example/v1.0/x",
      "no region match: the first public one",
    );
    assert.equal(
      findEndpoint(catalog, { type: "ctsv3", interface: "public", region: "eu-de" }),
      undefined,
    );
  });
});

describe("OTC error bodies", () => {
  test("gateway/CTS, Keystone and bare shapes; text is cut to its first line", () => {
    assert.deepEqual(
      parseServiceError('{"error_code":"CTS.0214","error_msg":"The tracker does not exist."}'),
      {
        code: "CTS.0214",
        message: "The tracker does not exist.",
      },
    );
    assert.deepEqual(
      parseServiceError('{"error":{"code":401,"title":"Unauthorized","message":"Unauthorized."}}'),
      {
        code: "401",
        message: "Unauthorized.",
      },
    );
    assert.deepEqual(parseServiceError('{"code":"APIG.0308","message":"throttled"}'), {
      code: "APIG.0308",
      message: "throttled",
    });
    assert.deepEqual(parseServiceError("<html>\n<body>Bad Gateway</body>"), {
      code: undefined,
      message: "<html>",
    });
    assert.equal(formatServiceError(parseServiceError("")), "no error details");
    assert.equal(formatServiceError({ code: "CTS.0300", message: undefined }), "CTS.0300");
  });
});
