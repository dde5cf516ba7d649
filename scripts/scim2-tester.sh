#!/usr/bin/env bash
# Runs scim2-tester (../shared/conformance) against the real server binary on
# a fresh store, and fails unless it reports 0 failed.
#
#   scripts/scim2-tester.sh [extra run-scim2-tester.sh options]
#   SCIM_TESTER_BACKEND=redis scripts/scim2-tester.sh
#
# Env:
#   SCIM_TESTER_BACKEND    sqlite (default: a new database file), redis (a
#                          fresh key prefix on SCIM_TEST_REDIS_URL, default
#                          redis://127.0.0.1:6379) or postgres (a fresh
#                          schema on SCIM_TEST_POSTGRES_URL, default
#                          postgres://postgres@127.0.0.1:5432/test). The
#                          prefix or schema is removed afterwards.
#   SCIM_CONFORMANCE_DIR   default ../shared/conformance
#   SCIM_TESTER_PORT       default 18181 (below 32768, so it never collides
#                          with ephemeral ports)
set -euo pipefail
cd "$(dirname "$0")/.."

conformance=${SCIM_CONFORMANCE_DIR:-../shared/conformance}
port=${SCIM_TESTER_PORT:-18181}
backend=${SCIM_TESTER_BACKEND:-sqlite}
[ -x "$conformance/run-scim2-tester.sh" ] || { echo "scim2-tester: $conformance/run-scim2-tester.sh not found" >&2; exit 1; }

cargo build --quiet -p scim-server --bin scim-server
bin=target/debug/scim-server

work=$(mktemp -d)
# Unique per run: lower-case letters, digits and '_' (a valid schema name).
scratch="scim2tester_$(date +%s)_$$"
cleanup_store() { :; }
export SCIM__STORAGE__BACKEND=$backend
case "$backend" in
  sqlite)
    export SCIM__STORAGE__SQLITE__PATH="$work/scim.db"
    ;;
  redis)
    url=${SCIM_TEST_REDIS_URL:-redis://127.0.0.1:6379}
    export SCIM__STORAGE__REDIS__URL=$url
    export SCIM__STORAGE__REDIS__KEY_PREFIX=$scratch
    redis-cli -u "$url" ping >/dev/null 2>&1 || { echo "scim2-tester: Redis at $url does not answer" >&2; exit 1; }
    cleanup_store() {
      redis-cli -u "$url" --scan --pattern "$scratch:*" | xargs -r -n 500 redis-cli -u "$url" unlink >/dev/null
    }
    ;;
  postgres)
    url=${SCIM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
    export SCIM__STORAGE__POSTGRES__URL=$url
    export SCIM__STORAGE__POSTGRES__SCHEMA=$scratch
    psql "$url" -qAtc 'SELECT 1' >/dev/null 2>&1 || { echo "scim2-tester: PostgreSQL at ${url%%@*}@... does not answer" >&2; exit 1; }
    cleanup_store() { psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $scratch CASCADE" >/dev/null; }
    ;;
  *)
    echo "scim2-tester: SCIM_TESTER_BACKEND=$backend: expected sqlite, redis or postgres" >&2
    exit 2
    ;;
esac
export SCIM__SERVER__BIND="127.0.0.1:$port"

pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  cleanup_store || echo "scim2-tester: could not remove $scratch from $backend" >&2
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" tenant create conformance >&2
token=$("$bin" token create --tenant conformance --description scim2-tester)

"$bin" serve >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "scim2-tester: server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

"$conformance/setup.sh" >&2
out="$work/tester.out"
"$conformance/run-scim2-tester.sh" "http://127.0.0.1:$port/scim/v2" "$token" "$@" | tee "$out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
passed=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ] || [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
  echo "scim2-tester: FAILED on $backend (${summary:-no summary line})" >&2
  echo "--- server log (tail)" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
echo "scim2-tester: ok on $backend ($summary)"
