import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, describe, test } from "node:test";
import { AppError } from "@cts/shared";
import { loadCloudConfig } from "./load-cloud-config.js";

const PASSWORD = "Pa55w0rd-never-logged";
const SECRET_KEY = "SK0123456789abcdefghijklmnopqrstuvwxyzSK";

/** The clouds.yaml of the original project's README, with its missing quote fixed. */
const SEED_STYLE = `clouds:
  otc:
    profile: otc
    auth:
      username: 'alice'
      password: '${PASSWORD}'
      ak: 'AKEXAMPLE0000000001'
      sk: '${SECRET_KEY}'
      project_name: 'eu-de_audit'
      user_domain_name: 'OTC00000000001000000001'
      auth_url: 'https://iam.eu-de.otc.t-systems.com:443/v3'
    interface: 'public'
    identity_api_version: 3
`;

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A sandbox with its own cwd, home and /etc, so no developer file is ever read. */
function sandbox(files: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), "clouds-"));
  roots.push(root);
  const dirs = { cwd: join(root, "cwd"), home: join(root, "home"), etc: join(root, "etc") };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, text);
  }
  return { root, dirs };
}

function configError(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, "CONFIG_INVALID");
    assert.ok(!error.message.includes(PASSWORD), "the password never appears");
    assert.ok(!error.message.includes(SECRET_KEY), "the secret key never appears");
    return error;
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("loadCloudConfig: the seed README's clouds.yaml", () => {
  test("uses AK/SK when both are configured and derives region and auth URL", () => {
    const { root, dirs } = sandbox({ "cwd/clouds.yaml": SEED_STYLE });
    const config = loadCloudConfig({ OS_CLOUD: "otc" }, dirs);
    assert.equal(config.cloud, "otc");
    assert.equal(config.file, join(root, "cwd", "clouds.yaml"));
    assert.equal(config.authMethod, "aksk");
    assert.equal(config.credentials.method, "aksk");
    assert.equal(config.credentials.accessKey, "AKEXAMPLE0000000001");
    assert.equal(config.credentials.secretKey.reveal(), SECRET_KEY);
    assert.equal(config.authUrl, "https://iam.eu-de.otc.t-systems.com/v3");
    assert.equal(config.region, "eu-de");
    assert.equal(config.projectName, "eu-de_audit");
    assert.equal(config.domainName, "OTC00000000001000000001");
    assert.equal(config.interface, "public");
  });

  test("never shows its secrets in JSON, strings or inspection", () => {
    const { dirs } = sandbox({ "cwd/clouds.yaml": SEED_STYLE });
    const config = loadCloudConfig({}, dirs);
    for (const rendering of [
      JSON.stringify(config),
      inspect(config, { depth: 9 }),
      String(config.credentials.method === "aksk" && config.credentials.secretKey),
    ]) {
      assert.ok(!rendering.includes(SECRET_KEY));
      assert.ok(!rendering.includes(PASSWORD));
    }
  });

  test("the README's original (unclosed quote) is refused with line and column, without a snippet", () => {
    const broken = SEED_STYLE.replace("'eu-de_audit'", "'eu-de_audit");
    const { root, dirs } = sandbox({ "cwd/clouds.yaml": broken });
    const error = configError(() => loadCloudConfig({}, dirs));
    assert.match(
      error.message,
      new RegExp(`"${join(root, "cwd", "clouds.yaml")}": is not valid YAML at line 10`),
    );
    assert.ok(!error.message.includes("sk:"), "js-yaml's source snippet is left out");
  });

  test("template placeholders count as unset: clouds.tpl with only username/password filled uses the password", () => {
    const template = SEED_STYLE.replace(/ak: '.*'/, "ak: '<ACCESS_KEY>'").replace(
      /sk: '.*'/,
      "sk: '<SECRET_KEY>'",
    );
    const { dirs } = sandbox({ "cwd/clouds.yaml": template });
    const config = loadCloudConfig({}, dirs);
    assert.equal(config.authMethod, "password");
    assert.equal(
      config.credentials.method === "password" && config.credentials.password.reveal(),
      PASSWORD,
    );
    assert.deepEqual(config.placeholders, ["auth.ak", "auth.sk"]);
  });

  test("an untouched template names the first placeholder it cannot do without", () => {
    const template = `clouds:
  otc:
    auth:
      username: '<USER_NAME>'
      password: '<PASSWORD>'
      ak: '<ACCESS_KEY>'
      sk: '<SECRET_KEY>'
      project_name: 'eu-de_<PROJECT_NAME>'
      user_domain_name: 'OTC00000000001000000xxx'
      auth_url: 'https://iam.eu-de.otc.t-systems.com:443/v3'
`;
    const { dirs } = sandbox({ "cwd/clouds.yaml": template });
    const error = configError(() => loadCloudConfig({}, dirs));
    assert.match(
      error.message,
      /cloud "otc": auth.project_name still holds the template placeholder/,
    );
  });
});

describe("loadCloudConfig: finding the files", () => {
  const minimal = (project: string) => `clouds:
  c:
    auth: {auth_url: "https://iam.example/v3", username: u, password: p, user_domain_name: d, project_name: ${project}}
`;

  test("searches cwd, then ~/.config/openstack, then /etc/openstack; .yaml before .yml before .json", () => {
    const { root, dirs } = sandbox({
      "cwd/clouds.yml": minimal("eu-nl_cwd"),
      "cwd/clouds.json": JSON.stringify({ clouds: {} }),
      "home/.config/openstack/clouds.yaml": minimal("eu-de_home"),
      "etc/clouds.yaml": minimal("eu-de_etc"),
    });
    assert.equal(loadCloudConfig({}, dirs).projectName, "eu-nl_cwd");
    assert.equal(loadCloudConfig({}, dirs).file, join(root, "cwd", "clouds.yml"));
    rmSync(join(root, "cwd", "clouds.yml"));
    const error = configError(() => loadCloudConfig({}, dirs));
    assert.match(
      error.message,
      /clouds.json" defines no clouds/,
      "the first file found wins, even when empty",
    );
    rmSync(join(root, "cwd", "clouds.json"));
    assert.equal(loadCloudConfig({}, dirs).projectName, "eu-de_home");
    rmSync(join(root, "home", ".config", "openstack", "clouds.yaml"));
    assert.equal(loadCloudConfig({}, dirs).projectName, "eu-de_etc");
  });

  test("reads JSON files too", () => {
    const { dirs } = sandbox({
      "etc/clouds.json": JSON.stringify({
        clouds: {
          j: {
            auth: {
              auth_url: "http://127.0.0.1:9/v3",
              user_id: "u1",
              password: "p",
              project_id: "p1",
            },
            region_name: "eu-nl",
          },
        },
      }),
    });
    const config = loadCloudConfig({}, dirs);
    assert.equal(config.cloud, "j");
    assert.equal(config.region, "eu-nl");
    assert.equal(config.projectId, "p1");
  });

  test("OS_CLIENT_CONFIG_FILE comes first, and must exist when set", () => {
    const { root, dirs } = sandbox({
      "cwd/clouds.yaml": minimal("eu-de_cwd"),
      "elsewhere/my-clouds.yaml": minimal("eu-de_explicit"),
    });
    const explicit = join(root, "elsewhere", "my-clouds.yaml");
    assert.equal(
      loadCloudConfig({ OS_CLIENT_CONFIG_FILE: explicit }, dirs).projectName,
      "eu-de_explicit",
    );
    const error = configError(() =>
      loadCloudConfig({ OS_CLIENT_CONFIG_FILE: `${explicit}.missing` }, dirs),
    );
    assert.match(
      error.message,
      /OS_CLIENT_CONFIG_FILE points to ".*missing", which is not a readable file/,
    );
  });

  test("secure.yaml is merged over clouds.yaml and wins", () => {
    const { dirs } = sandbox({
      "cwd/clouds.yaml": `clouds:
  otc:
    auth: {auth_url: "https://iam.example/v3", username: alice, password: "<PASSWORD>", user_domain_name: d, project_name: eu-de_x}
`,
      "home/.config/openstack/secure.yaml": `clouds:
  otc:
    auth: {password: "${PASSWORD}"}
`,
    });
    const config = loadCloudConfig({}, dirs);
    assert.equal(
      config.credentials.method === "password" && config.credentials.password.reveal(),
      PASSWORD,
    );
    assert.ok(config.secureFile?.endsWith(join("home", ".config", "openstack", "secure.yaml")));
  });

  test("no file and no OS_* credentials: says where it looked and what to do", () => {
    const { dirs } = sandbox();
    const error = configError(() => loadCloudConfig({ OS_CLOUD: "" }, dirs));
    assert.match(
      error.message,
      /no clouds.yaml found \(searched .*cwd\/clouds.yaml, .*\) .* copy clouds.tpl/,
    );
  });
});

describe("loadCloudConfig: selecting the cloud", () => {
  const two = `clouds:
  prod:
    auth: {auth_url: "https://iam.example/v3", ak: AK1, sk: "${SECRET_KEY}", project_name: eu-de_prod}
  test:
    auth: {auth_url: "https://iam.example/v3", ak: AK2, sk: "${SECRET_KEY}", project_name: eu-nl_test}
`;

  test("OS_CLOUD picks one of several; without it, several clouds are an error", () => {
    const { dirs } = sandbox({ "cwd/clouds.yaml": two });
    assert.equal(loadCloudConfig({ OS_CLOUD: "test" }, dirs).region, "eu-nl");
    const several = configError(() => loadCloudConfig({}, dirs));
    assert.match(several.message, /has 2 clouds \(prod, test\); set OS_CLOUD/);
    const unknown = configError(() => loadCloudConfig({ OS_CLOUD: "staging" }, dirs));
    assert.match(
      unknown.message,
      /OS_CLOUD is "staging" but clouds.yaml ".*" has no such cloud; it has: prod, test/,
    );
  });

  test("a cloud built from OS_* variables alone, when there is no file", () => {
    const { dirs } = sandbox();
    const config = loadCloudConfig(
      {
        OS_AUTH_URL: "https://iam.{region_name}.otc.t-systems.com/v3",
        OS_USERNAME: "alice",
        OS_PASSWORD: PASSWORD,
        OS_USER_DOMAIN_NAME: "OTC00000000001000000001",
        OS_PROJECT_NAME: "eu-nl_ops",
      },
      dirs,
    );
    assert.equal(config.cloud, "envvars");
    assert.equal(config.file, undefined);
    assert.equal(config.authUrl, "https://iam.eu-nl.otc.t-systems.com/v3");
    assert.ok(config.fromEnvironment.includes("auth.password<-OS_PASSWORD"));
  });

  test("OS_* variables fill gaps in a file cloud, but never mix in credentials", () => {
    const { dirs } = sandbox({
      "cwd/clouds.yaml": `clouds:
  otc:
    auth: {username: alice, password: "${PASSWORD}", user_domain_name: d, project_name: eu-de_x}
`,
    });
    const config = loadCloudConfig(
      { OS_AUTH_URL: "https://iam.eu-de.otc.t-systems.com", OS_AK: "STRAY", OS_SK: "STRAY-SK" },
      dirs,
    );
    assert.equal(config.authUrl, "https://iam.eu-de.otc.t-systems.com/v3", "/v3 is appended");
    assert.equal(config.authMethod, "password", "a stray OS_AK does not switch the method");
    assert.deepEqual(config.fromEnvironment, ["auth.auth_url<-OS_AUTH_URL"]);
  });
});

describe("loadCloudConfig: keys and their errors", () => {
  const cloud = (body: string) => `clouds:\n  otc:\n${body}`;
  const load = (body: string, env: Record<string, string> = {}) => {
    const { dirs } = sandbox({ "cwd/clouds.yaml": cloud(body) });
    return () => loadCloudConfig(env, dirs);
  };

  test("cloud-level ak/sk and access_key/secret_key (python-otcextensions style)", () => {
    for (const [akKey, skKey] of [
      ["ak", "sk"],
      ["access_key", "secret_key"],
    ]) {
      const config = load(
        `    ${akKey}: AKCLOUD\n    ${skKey}: "${SECRET_KEY}"\n    auth: {auth_url: "https://iam.example/v3", project_id: p1}\n    region_name: eu-de\n`,
      )();
      assert.equal(config.authMethod, "aksk");
      assert.equal(config.credentials.method === "aksk" && config.credentials.accessKey, "AKCLOUD");
    }
  });

  test("{region_name} in auth_url is substituted, and an error without a region", () => {
    const config = load(
      `    region_name: eu-ch2\n    auth: {auth_url: "https://iam-pub.{region_name}.sc.otc.t-systems.com/v3", ak: A, sk: S, project_id: p}\n`,
    )();
    assert.equal(config.authUrl, "https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3");
    const error = configError(
      load(
        `    auth: {auth_url: "https://iam.{region_name}.example/v3", ak: A, sk: S, project_id: p}\n`,
      ),
    );
    assert.match(
      error.message,
      /auth.auth_url contains \{region_name\} but no region is known; set region_name/,
    );
  });

  test("a number where text belongs is refused by key, without the value", () => {
    const error = configError(
      load(
        `    auth: {auth_url: "https://iam.example/v3", username: alice, password: 20250101, user_domain_name: d, project_name: eu-de_x}\n`,
      ),
    );
    assert.match(error.message, /cloud "otc": auth.password must be text; put the value in quotes/);
    assert.ok(!error.message.includes("20250101"));
  });

  test("each missing piece is named with the fix", () => {
    const cases: [string, RegExp][] = [
      [
        `    auth: {username: a, password: p, user_domain_name: d, project_name: eu-de_x}\n`,
        /auth.auth_url is missing; set it to the IAM endpoint/,
      ],
      [
        `    auth: {auth_url: "https://i/v3", username: a, password: p, user_domain_name: d}\n`,
        /auth.project_name is missing; set auth.project_name .* or auth.project_id/,
      ],
      [
        `    auth: {auth_url: "https://i/v3", username: a, password: p, project_name: eu-de_x}\n`,
        /auth.user_domain_name is missing; a user name is unique only within its domain/,
      ],
      [
        `    auth: {auth_url: "https://i/v3", username: a, user_domain_name: d, project_name: eu-de_x}\n`,
        /auth.password is missing/,
      ],
      [
        `    auth: {auth_url: "https://i/v3", ak: A, project_name: eu-de_x}\n`,
        /auth.sk is missing; AK\/SK needs both/,
      ],
      [
        `    auth_type: aksk\n    auth: {auth_url: "https://i/v3", username: a, password: p, user_domain_name: d, project_name: eu-de_x}\n`,
        /auth.ak is missing/,
      ],
      [
        `    auth_type: token\n    auth: {auth_url: "https://i/v3", project_name: eu-de_x}\n`,
        /auth_type must be password or aksk/,
      ],
      [
        `    interface: private\n    auth: {auth_url: "https://i/v3", ak: A, sk: S, project_name: eu-de_x}\n`,
        /interface must be public, internal or admin/,
      ],
      [
        `    identity_api_version: 2\n    auth: {auth_url: "https://i/v3", ak: A, sk: S, project_name: eu-de_x}\n`,
        /identity_api_version must be 3/,
      ],
      [
        `    auth: {auth_url: "ftp://i/v3", ak: A, sk: S, project_name: eu-de_x}\n`,
        /auth.auth_url must be an http or https URL/,
      ],
      [`    auth: [1, 2]\n`, /auth must be a mapping/],
    ];
    for (const [body, expected] of cases) {
      const error = configError(load(body));
      assert.match(error.message, /^clouds.yaml ".*clouds.yaml", cloud "otc": /);
      assert.match(error.message, expected);
    }
  });

  test("secrets are used exactly as written; other values are trimmed", () => {
    const config = load(
      `    auth: {auth_url: " https://i/v3 ", user_id: " u1 ", password: " p a ", project_id: p1}\n`,
    )();
    assert.equal(
      config.credentials.method === "password" && config.credentials.password.reveal(),
      " p a ",
    );
    assert.equal(config.credentials.method === "password" && config.credentials.userId, "u1");
    assert.equal(config.authUrl, "https://i/v3");
  });

  test("password authentication by user id needs no domain; interface aliases are accepted", () => {
    const config = load(
      `    endpoint_type: internalURL\n    auth: {auth_url: "https://i/v3", user_id: u1, password: p, project_id: p1}\n`,
    )();
    assert.equal(config.authMethod, "password");
    assert.equal(config.interface, "internal");
    assert.equal(config.region, undefined, "learnt later from the token's project name");
  });
});
