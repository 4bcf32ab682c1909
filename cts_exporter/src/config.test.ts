import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseExporterConfig } from "./config.js";

const base = { K_SINK: "http://sink.default.svc.cluster.local" };

describe("exporter configuration (docs/event-contract.md section 5)", () => {
  test("defaults", () => {
    const config = parseExporterConfig(base, []);
    assert.equal(config.tracker, "system");
    assert.equal(config.fromMinutes, 5);
    assert.equal(config.push, true);
    assert.equal(config.port, 8080);
    assert.equal(config.mode, "binary");
    assert.equal(config.batchSize, 1);
    assert.equal(config.once, false);
    assert.equal(config.dryRun, false);
    assert.deepEqual(config.overrides, {});
    assert.equal(config.stateFile, undefined);
  });

  test("CTS_PROJECTS: unset is the clouds.yaml project, all, or a list of names and ids", () => {
    assert.equal(parseExporterConfig(base, []).projects, undefined);
    assert.equal(parseExporterConfig({ ...base, CTS_PROJECTS: " ALL " }, []).projects, "all");
    assert.deepEqual(
      parseExporterConfig({ ...base, CTS_PROJECTS: "eu-de_prod, eu-nl_backup,,eu-de_prod" }, [])
        .projects,
      ["eu-de_prod", "eu-nl_backup"],
    );
  });

  test("flags: --once, --dry-run and --from override CTS_FROM", () => {
    const config = parseExporterConfig({ ...base, CTS_FROM: "5" }, [
      "--once",
      "--dry-run",
      "--from",
      "30",
    ]);
    assert.equal(config.once, true);
    assert.equal(config.dryRun, true);
    assert.equal(config.fromMinutes, 30);
    assert.equal(parseExporterConfig(base, ["--from=7"]).fromMinutes, 7);
  });

  test("K_SINK is required only when pushing", () => {
    assert.throws(() => parseExporterConfig({}, []), /K_SINK is required/);
    assert.equal(parseExporterConfig({ CTS_X_PNP: "false" }, []).push, false);
    assert.equal(parseExporterConfig({}, ["--dry-run"]).dryRun, true);
  });

  test("every problem is reported, one per line, as CONFIG_INVALID", () => {
    assert.throws(
      () =>
        parseExporterConfig(
          {
            K_SINK: "ftp://x",
            CTS_FROM: "0",
            CTS_X_PNP: "maybe",
            K_CE_OVERRIDES: "{",
            PORT: "http",
          },
          [],
        ),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "CONFIG_INVALID");
        for (const pattern of [
          /CTS_FROM must be a whole number from 1 to 10080, got "0"/,
          /CTS_X_PNP must be true or false/,
          /K_CE_OVERRIDES is not valid JSON/,
          /PORT must be/,
          /K_SINK must be an http or https URL/,
        ]) {
          assert.match(error.message, pattern);
        }
        return true;
      },
    );
  });

  test("CTS_FROM accepts up to 10080 minutes (7 days) and no more", () => {
    assert.equal(parseExporterConfig({ ...base, CTS_FROM: "10080" }, []).fromMinutes, 10080);
    assert.throws(() => parseExporterConfig({ ...base, CTS_FROM: "10081" }, []), /CTS_FROM/);
    assert.throws(() => parseExporterConfig({ ...base, CTS_FROM: "2.5" }, []), /CTS_FROM/);
  });

  test("unknown flags and a K_CA_CERTS that is not PEM are configuration errors", () => {
    assert.throws(() => parseExporterConfig(base, ["--onse"]), /invalid command line/);
    assert.throws(
      () => parseExporterConfig({ ...base, K_CA_CERTS: "not a cert" }, []),
      /K_CA_CERTS must hold PEM/,
    );
  });

  test("CTS_POLL_INTERVAL_SECONDS is validated like every other number", () => {
    assert.equal(parseExporterConfig(base, []).pollIntervalSeconds, undefined);
    assert.equal(
      parseExporterConfig({ ...base, CTS_POLL_INTERVAL_SECONDS: "2" }, []).pollIntervalSeconds,
      2,
    );
    assert.throws(
      () => parseExporterConfig({ ...base, CTS_POLL_INTERVAL_SECONDS: "soon" }, []),
      /CTS_POLL_INTERVAL_SECONDS/,
    );
  });

  test("batch mode is opt-in and sets the batch size", () => {
    const config = parseExporterConfig({ ...base, SINK_MODE: "Batch", SINK_BATCH_SIZE: "50" }, []);
    assert.equal(config.mode, "batch");
    assert.equal(config.batchSize, 50);
  });
});
