import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertNoSecrets } from "./secrets.js";

const token = `MIIT${"a1B2-c3_D4".repeat(25)}`;
const secrets = {
  password: 'p@ss "word" 1',
  secretKey: "SK/with+chars==",
  tokens: ["token-one-1", token],
};

/** The message of the assertion `check` throws, or undefined when it passes. */
function failure(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("assertNoSecrets", () => {
  test("passes on output without the secrets", () => {
    assertNoSecrets('{"msg":"cycle finished","user":"alice"}', secrets);
  });

  test("finds a secret as written, JSON-escaped, URL-encoded, or a token cut short", () => {
    const cases: [string, string][] = [
      ['p@ss "word" 1 in plain text', "password"],
      [JSON.stringify({ msg: 'p@ss "word" 1' }), "password"],
      [`GET /?sk=${encodeURIComponent("SK/with+chars==")}`, "secretKey"],
      [`{"token":"token-one-1"}`, "tokens[0]"],
      [`x-auth-token: ${token.slice(0, 40)}...`, "tokens[1]"],
    ];
    for (const [output, name] of cases) {
      const message = failure(() => {
        assertNoSecrets(output, secrets, "the log");
      });
      assert.match(
        message ?? "",
        new RegExp(`the log carries secrets: .*${name.replace(/[[\]]/g, "\\$&")}`),
        output,
      );
    }
  });

  test("names the secret but never prints it", () => {
    const message = failure(() => {
      assertNoSecrets(`leak: ${token} and p@ss "word" 1`, secrets);
    });
    assert.ok(message !== undefined);
    assert.ok(!message.includes(token.slice(0, 20)) && !message.includes("p@ss"), message);
  });

  test("a secret too short to search for reliably fails instead of passing silently", () => {
    assert.match(
      failure(() => {
        assertNoSecrets("anything", { pin: "1234" });
      }) ?? "",
      /too short/,
    );
  });
});
