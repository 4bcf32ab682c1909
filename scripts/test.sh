#!/usr/bin/env bash
# The whole suite: typecheck, lint, format check, then every unit, integration and end-to-end
# test in ONE node:test run, so the log ends with node's summary lines.
# Integration tests need Neo4j: unless NEO4J_URI and NEO4J_PASSWORD name an existing server, a
# private test server is started here (own ports and data dir) and stopped on exit, even on failure.
# Extra arguments go to `node --test` (e.g. --test-name-pattern=...); set TEST_FILES to run a subset.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${TEST_FILES:-}" ]]; then
  echo "== typecheck" && pnpm -s typecheck
  echo "== lint" && pnpm -s lint
  echo "== format" && pnpm -s format:check
  mapfile -t files < <(find shared cts_exporter neo4j_sink otc_simulator devkit detections config test \
    -name '*.test.ts' -not -path '*/node_modules/*' -not -path '*/dist/*' 2>/dev/null | sort)
else
  read -r -a files <<<"$TEST_FILES"
fi
if ((${#files[@]} == 0)); then
  echo "no test files found" >&2
  exit 1
fi

if [[ -z "${NEO4J_URI:-}" || -z "${NEO4J_PASSWORD:-}" ]]; then
  export NEO4J_HOME_DIR="${NEO4J_TEST_HOME_DIR:-$PWD/.neo4j/test-home}"
  export NEO4J_BOLT_PORT="${NEO4J_TEST_BOLT_PORT:-17687}"
  export NEO4J_HTTP_PORT="${NEO4J_TEST_HTTP_PORT:-17474}"
  export NEO4J_PASSWORD="cloudtrace-test"
  export NEO4J_HEAP_SIZE="${NEO4J_HEAP_SIZE:-768m}" NEO4J_PAGECACHE_SIZE="${NEO4J_PAGECACHE_SIZE:-256m}"
  # Quietly, so node's summary stays the last lines of the run.
  trap 'pnpm -s neo4j stop >/dev/null 2>&1 || true' EXIT
  echo "== neo4j (test server on port $NEO4J_BOLT_PORT)"
  NEO4J_URI="$(pnpm -s neo4j start | tail -n 1)"
  export NEO4J_URI
fi
export NEO4J_USER="${NEO4J_USER:-neo4j}"

# The tracing test needs the OpenTelemetry Collector; building it (once, cached in .otelcol/)
# here keeps the minutes it takes the first time out of the test's own timing.
if printf '%s\n' "${files[@]}" | grep -q 'otel'; then
  echo "== otelcol (OpenTelemetry Collector for the tracing test)"
  pnpm -s otelcol build >/dev/null
fi

echo "== tests (${#files[@]} files)"
node --import tsx --conditions=@cts/source --test --test-concurrency=1 "$@" "${files[@]}"
