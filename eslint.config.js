import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

const testFunctions = [
  "test",
  "describe",
  "it",
  "suite",
  "before",
  "after",
  "beforeEach",
  "afterEach",
];

export default defineConfig(
  globalIgnores([
    "**/dist/**",
    "**/coverage/**",
    "**/node_modules/**",
    ".toolchain/**",
    ".neo4j/**",
    ".state/**",
    "bench/results/**",
  ]),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: testFunctions }],
        },
      ],
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
      // neo4j-driver declares its plain options bag (Config) as a class; object literals are its API.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      // Template literals with numbers are how log and error messages are written here.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-console": "error",
      "max-params": ["error", 3],
    },
  },
  {
    // The pure cores must not reach for I/O; adapters do that.
    files: ["*/src/core/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            "express",
            "neo4j-driver",
            "prom-client",
            "node:http",
            "node:https",
            "node:fs",
            "pino",
          ].map((name) => ({
            name,
            message: "core modules stay pure; use a port",
            allowTypeImports: true,
          })),
        },
      ],
    },
  },
  {
    // CLIs and scripts talk to a terminal.
    files: ["scripts/**/*.ts", "bench/**/*.ts", "*/src/cli.ts", "*/src/cli/**/*.ts"],
    rules: { "no-console": "off" },
  },
  {
    // Tests use non-null assertions on values the test itself just established.
    files: ["**/*.test.ts", "**/test/**/*.ts", "devkit/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "max-params": "off",
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
