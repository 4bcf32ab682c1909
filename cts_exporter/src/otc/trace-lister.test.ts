import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@cts/shared";
import { createOtcHttp, type Authenticator } from "./otc-http.js";
import type { InvalidListing } from "../core/ports.js";
import { listTraces, type InvalidTrace } from "./trace-lister.js";

/**
 * Misbehaving services the simulator does not play: a fetch that answers from a script and
 * records every URL it was asked for.
 */
function scriptedFetch(answers: (url: URL, call: number) => Response) {
  const urls: URL[] = [];
  const fetchImpl: typeof fetch = (input) => {
    const url = new URL(input instanceof Request ? input.url : input);
    urls.push(url);
    return Promise.resolve(answers(url, urls.length));
  };
  return { fetch: fetchImpl, urls };
}

const page = (ids: string[], marker: string | null) =>
  Response.json({
    traces: ids.map((id) => ({ trace_id: id, time: 1_700_000_000_000 })),
    meta_data: { count: ids.length, marker },
  });

const logger = createLogger({ name: "lister-test", level: "silent" });
const T = 1_700_000_000_000;

function lister(
  fetchImpl: typeof fetch,
  auth: Authenticator = noAuth,
  onInvalidTrace: (invalid: InvalidTrace) => void = () => undefined,
  now: () => number = () => T,
) {
  const http = createOtcHttp({
    logger,
    requestTimeoutMs: 1000,
    now: Date.now,
    fetch: fetchImpl,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  return (window = { from: T - 60_000, to: T }, onInvalid?: (invalid: InvalidListing) => void) =>
    listTraces(
      { http, auth, endpoint: "https://cts.example/v3/p1", logger, onInvalidTrace, now },
      window,
      { tracker: "system", onInvalid },
    );
}

const noAuth: Authenticator = {
  method: "none",
  headers: (_request, headers) => Promise.resolve({ ...headers }),
  renew: () => false,
};

async function collect(
  iterable: AsyncIterable<{ trace: { trace_id: string } }>,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const { trace } of iterable) ids.push(trace.trace_id);
  return ids;
}

describe("trace listing guards", () => {
  test("sends trace_type, tracker, limit 200, the window and then next = the marker", async () => {
    const script = scriptedFetch((_url, call) =>
      call === 1 ? page(["a", "b"], "b") : page(["c"], null),
    );
    assert.deepEqual(
      await collect(lister(script.fetch)({ from: 1711418400000, to: 1711422000000 })),
      ["a", "b", "c"],
    );
    assert.equal(
      script.urls[0]?.toString(),
      "https://cts.example/v3/p1/traces?trace_type=system&tracker_name=system&limit=200&from=1711418400000&to=1711422000000",
    );
    assert.equal(script.urls[1]?.searchParams.get("next"), "b");
  });

  test("a repeated marker fails the listing instead of ending it as complete", async () => {
    const script = scriptedFetch((_url, call) => page([`t${call}`], call % 2 === 0 ? "m2" : "m1"));
    await assert.rejects(collect(lister(script.fetch)()), {
      code: "CTS_API_REJECTED",
      message: /repeated a paging marker \(page 3\).*the checkpoint stays/,
    });
    assert.equal(script.urls.length, 3);
  });

  test("the same page again under a new marker fails the listing; an overlapping page does not", async () => {
    // Bounded, so a lister without the guard fails here instead of paging forever.
    const same = scriptedFetch((_url, call) =>
      call > 50 ? page([], null) : page(["a", "b"], `m${call}`),
    );
    await assert.rejects(collect(lister(same.fetch)()), {
      code: "CTS_API_REJECTED",
      message: /sent the previous page again under a new marker/,
    });
    assert.equal(same.urls.length, 2, "stopped at the first repeat");
    const pages = [page(["a", "b"], "b"), page(["b", "c"], "c"), page(["d"], null)];
    const overlapping = scriptedFetch((_url, call) => pages[call - 1] ?? page([], null));
    assert.deepEqual(await collect(lister(overlapping.fetch)()), ["a", "b", "b", "c", "d"]);
    assert.equal(overlapping.urls.length, 3);
  });

  test("a page newer than the one before fails the listing; older by either time measure goes on", async () => {
    const at = (id: string, time: number, record = time) => ({
      trace_id: id,
      time,
      record_time: record,
    });
    const body = (traces: object[], marker: string | null) =>
      Response.json({ traces, meta_data: { count: traces.length, marker } });
    // Bounded, so a lister without the guard fails here instead of paging forever.
    const forward = scriptedFetch((_url, call) =>
      call > 50 ? page([], null) : body([at(`n${call}`, 1_000 + call)], `n${call}`),
    );
    await assert.rejects(collect(lister(forward.fetch)()), {
      code: "CTS_API_REJECTED",
      message: /newer traces instead of older ones/,
    });
    assert.equal(forward.urls.length, 2, "stopped at the first page that went forward");
    // A late-recorded trace: newer by time than the previous page, older by record time.
    const pages = [
      body([at("a", 5_000, 9_000), at("b", 4_000, 8_000)], "b"),
      body([at("late", 4_500, 7_000)], "late"),
      body([at("c", 3_000, 3_000)], null),
    ];
    const mixed = scriptedFetch((_url, call) => pages[call - 1] ?? page([], null));
    assert.deepEqual(await collect(lister(mixed.fetch)()), ["a", "b", "late", "c"]);
  });

  test("each request clamps from to retention, so a window at the 7-day edge does not fail on later pages", async () => {
    const RETENTION = 7 * 24 * 60 * 60_000;
    let now = T;
    const script = scriptedFetch((url, call) => {
      // CTS refuses a from older than its retention, as the simulator does (400 CTS.0300).
      if (Number(url.searchParams.get("from")) < now - RETENTION) {
        return Response.json(
          { error_code: "CTS.0300", error_msg: "out of retention" },
          { status: 400 },
        );
      }
      now += 2 * 60_000; // each page takes a while: the edge moves past the planned from
      return call < 4 ? page([`e${call}`], `e${call}`) : page(["last"], null);
    });
    const window = { from: T - RETENTION + 60_000 + 1_000, to: T };
    assert.deepEqual(
      await collect(
        lister(
          script.fetch,
          noAuth,
          () => undefined,
          () => now,
        )(window),
      ),
      ["e1", "e2", "e3", "last"],
    );
    const froms = script.urls.map((url) => Number(url.searchParams.get("from")));
    assert.equal(froms[0], window.from);
    assert.ok(froms[3]! > window.from, "later pages carry a from clamped to the moving edge");
  });

  test("the next page is requested while the current one is consumed, and dropped when the consumer stops", async () => {
    const aborted: unknown[] = [];
    const urls: URL[] = [];
    const fetchImpl: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      urls.push(url);
      if (urls.length === 1) return Promise.resolve(page(["a", "b"], "b"));
      // The second page never answers by itself: only the consumer stopping ends it.
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => {
          aborted.push(init.signal?.reason);
          reject(init.signal?.reason as Error);
        });
      });
    };
    const listing = lister(fetchImpl)();
    const first = await listing.next();
    assert.equal(first.done, false);
    assert.equal(urls.length, 2, "page 2 requested before page 1 was consumed");
    assert.equal(urls[1]?.searchParams.get("next"), "b");
    await listing.return(undefined);
    assert.equal(aborted.length, 1, "the request for page 2 was abandoned");
  });

  test("an empty page ends the listing even with a marker", async () => {
    const script = scriptedFetch(() => page([], "still-more?"));
    assert.deepEqual(await collect(lister(script.fetch)()), []);
    assert.equal(script.urls.length, 1);
  });

  test("a page that is not a trace page is CTS_API_REJECTED; a non-object trace is reported, not yielded", async () => {
    const broken = scriptedFetch(() => Response.json({ traces: "nope" }));
    await assert.rejects(collect(lister(broken.fetch)()), {
      code: "CTS_API_REJECTED",
      message: /page 1 .* is not a trace page/,
    });
    const invalid: InvalidTrace[] = [];
    const odd = scriptedFetch(() =>
      Response.json({ traces: ["text", { trace_id: "ok", time: 1 }], meta_data: { marker: null } }),
    );
    assert.deepEqual(
      await collect(
        lister(odd.fetch, noAuth, (item) => {
          invalid.push(item);
        })(),
      ),
      ["ok"],
    );
    assert.deepEqual(invalid, [{ traceId: undefined, reason: "not a JSON object" }]);
    const handed: InvalidListing[] = [];
    await collect(lister(odd.fetch)(undefined, (entry) => handed.push(entry)));
    assert.deepEqual(
      handed,
      [{ traceId: undefined, reason: "not a JSON object", raw: "text" }],
      "the listing's consumer gets the entry whole, for the dead-letter file",
    );
  });

  test("a 401 is renewed once; a second 401 is CLOUD_AUTH_FAILED, not retried", async () => {
    let renewals = 0;
    const renewing: Authenticator = { ...noAuth, method: "password", renew: () => ++renewals > 0 };
    const always401 = scriptedFetch(() =>
      Response.json(
        { error_code: "APIG.0307", error_msg: "The token must be updated." },
        { status: 401 },
      ),
    );
    await assert.rejects(collect(lister(always401.fetch, renewing)()), {
      code: "CLOUD_AUTH_FAILED",
      message: /401 APIG.0307: The token must be updated./,
    });
    assert.equal(renewals, 1);
    assert.equal(always401.urls.length, 2);
  });

  test("403 fails at once with CTS's code and message; 500 is retried until attempts run out", async () => {
    const forbidden = scriptedFetch(() =>
      Response.json(
        { error_code: "CTS.0013", error_msg: "No permission, Please check roles." },
        { status: 403 },
      ),
    );
    await assert.rejects(collect(lister(forbidden.fetch)()), {
      code: "CTS_API_REJECTED",
      message: /403 CTS.0013: No permission, Please check roles./,
    });
    assert.equal(forbidden.urls.length, 1);
    const failing = scriptedFetch(() => new Response("upstream broke", { status: 502 }));
    await assert.rejects(collect(lister(failing.fetch)()), {
      code: "CTS_API_UNAVAILABLE",
      retryable: true,
      message: /502 upstream broke/,
    });
    assert.equal(failing.urls.length, 6, "the default six attempts");
  });
});
