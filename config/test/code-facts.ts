/**
 * What a service's code reads and serves, found by reading its sources (TypeScript's parser,
 * no execution), so the manifests can be held to it:
 * - environment variables: `env["X"]` / `process.env["X"]`, the upper-case keys of a
 *   `z.object({...})` (the services validate their environment with zod), and, in a file that
 *   also reads `env[<computed name>]`, its UPPER_SNAKE string constants (tables of names such
 *   as the OS_* fallbacks of clouds.yaml settings);
 * - HTTP paths: string literals starting with `/` that a route compares or registers
 *   (`path === "/healthz"`, `app.get("/readyz", ...)`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

export interface CodeFacts {
  readonly envNames: ReadonlySet<string>;
  readonly routes: ReadonlySet<string>;
  /** The files read, for messages. */
  readonly files: readonly string[];
}

const ENV_KEY = /^[A-Z][A-Z0-9_]*$/;
const ENV_CONSTANT = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const ROUTE = /^\/[a-z][a-z0-9/_-]*$/;
const ROUTE_METHODS = new Set(["get", "post", "put", "delete", "all", "options", "head", "use"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts")
        ? [path]
        : [];
    });
}

/** `env`, `process.env`, `options.env`: any expression whose last name is `env`. */
function isEnvObject(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return node.text === "env";
  if (ts.isPropertyAccessExpression(node)) return node.name.text === "env";
  return false;
}

function isZodObjectCall(node: ts.CallExpression): boolean {
  const callee = node.expression;
  return (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === "z" &&
    ["object", "strictObject", "looseObject"].includes(callee.name.text)
  );
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/** Reads every non-test .ts file under `srcDir`. */
export function readCodeFacts(srcDir: string): CodeFacts {
  const envNames = new Set<string>();
  const routes = new Set<string>();
  const files = sourceFiles(srcDir);
  for (const file of files) {
    const source = ts.createSourceFile(
      file,
      readFileSync(file, "utf8"),
      ts.ScriptTarget.ES2024,
      true,
    );
    const constants: string[] = [];
    // An object, not a `let`: the flag is set inside the visitor closure.
    const computed = { read: false };
    const visit = (node: ts.Node): void => {
      if (ts.isElementAccessExpression(node) && isEnvObject(node.expression)) {
        const argument = node.argumentExpression;
        if (ts.isStringLiteral(argument)) envNames.add(argument.text);
        else computed.read = true;
      } else if (ts.isCallExpression(node) && isZodObjectCall(node)) {
        const shape = node.arguments[0];
        if (shape !== undefined && ts.isObjectLiteralExpression(shape)) {
          for (const property of shape.properties) {
            const name = property.name === undefined ? undefined : propertyName(property.name);
            if (name !== undefined && ENV_KEY.test(name)) envNames.add(name);
          }
        }
      } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
        if (ENV_CONSTANT.test(node.text)) constants.push(node.text);
        if (ROUTE.test(node.text) && isRouteUse(node)) routes.add(node.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (computed.read) for (const name of constants) envNames.add(name);
  }
  return { envNames, routes, files };
}

function isRouteUse(literal: ts.Node): boolean {
  const parent = literal.parent;
  if (ts.isBinaryExpression(parent)) {
    const operator = parent.operatorToken.kind;
    return (
      operator === ts.SyntaxKind.EqualsEqualsEqualsToken ||
      operator === ts.SyntaxKind.EqualsEqualsToken
    );
  }
  if (ts.isCaseClause(parent)) return true;
  if (ts.isCallExpression(parent) && parent.arguments[0] === literal) {
    const callee = parent.expression;
    return ts.isPropertyAccessExpression(callee) && ROUTE_METHODS.has(callee.name.text);
  }
  return false;
}
