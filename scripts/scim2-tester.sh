#!/usr/bin/env bash
# Runs scim2-tester (../shared/conformance) against the real server binary on
# a fresh SQLite database, and fails unless it reports 0 failed.
#
#   scripts/scim2-tester.sh [extra run-scim2-tester.sh options]
#
# Env: SCIM_CONFORMANCE_DIR (default ../shared/conformance), SCIM_TESTER_PORT
# (default 18181; below 32768 so it never collides with ephemeral ports).
set -euo pipefail
cd "$(dirname "$0")/.."

conformance=${SCIM_CONFORMANCE_DIR:-../shared/conformance}
port=${SCIM_TESTER_PORT:-18181}
[ -x "$conformance/run-scim2-tester.sh" ] || { echo "scim2-tester: $conformance/run-scim2-tester.sh not found" >&2; exit 1; }

cargo build --quiet -p scim-server --bin scim-server
bin=target/debug/scim-server

work=$(mktemp -d)
export SCIM__STORAGE__BACKEND=sqlite
export SCIM__STORAGE__SQLITE__PATH="$work/scim.db"
export SCIM__SERVER__BIND="127.0.0.1:$port"

"$bin" tenant create conformance >&2
token=$("$bin" token create --tenant conformance --description scim2-tester)

"$bin" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
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
  echo "scim2-tester: FAILED (${summary:-no summary line})" >&2
  echo "--- server log (tail)" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
echo "scim2-tester: ok ($summary)"
