import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createTokenFile } from "./oidc-token.js";

const dir = mkdtempSync(join(tmpdir(), "oidc-token-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the sender's OIDC token file", () => {
  test("absent or empty: no token, so no Authorization header", () => {
    let time = 0;
    const read = createTokenFile(join(dir, "missing"), { now: () => time });
    assert.equal(read(), undefined);
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    time += 5_000;
    assert.equal(createTokenFile(empty, { now: () => time })(), undefined);
  });

  test("read once, then again only after the interval and only when it changed", () => {
    const path = join(dir, "token");
    writeFileSync(path, "first.jwt\n");
    let time = 0;
    const read = createTokenFile(path, { checkIntervalMs: 1_000, now: () => time });
    assert.equal(read(), "first.jwt");
    writeFileSync(path, "second.jwt");
    time = 500;
    assert.equal(read(), "first.jwt", "within the interval the cached token is used");
    time = 1_600;
    assert.equal(read(), "second.jwt", "a renewed token is picked up");
    rmSync(path);
    time = 3_000;
    assert.equal(read(), undefined, "a removed token is no longer sent");
  });

  test("a projected volume's link swap (..data -> new folder) is a change", () => {
    // Kubernetes updates a projected Secret by pointing ..data at a new timestamped folder.
    const volume = join(dir, "volume");
    mkdirSync(join(volume, "v1"), { recursive: true });
    mkdirSync(join(volume, "v2"), { recursive: true });
    writeFileSync(join(volume, "v1", "token"), "old.jwt");
    writeFileSync(join(volume, "v2", "token"), "new.jwt");
    symlinkSync("v1", join(volume, "..data"));
    symlinkSync("..data/token", join(volume, "token"));
    let time = 0;
    const read = createTokenFile(join(volume, "token"), { now: () => time });
    assert.equal(read(), "old.jwt");
    symlinkSync("v2", join(volume, "..data_tmp"));
    renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
    time = 2_000;
    assert.equal(read(), "new.jwt");
  });
});
