#!/usr/bin/env bash
# Instructions per request, counted by callgrind: the figure that does not
# move with the other tenants of a shared machine (CPU time per request
# moved by 2x between runs of one build here). Used to judge a change to a
# read path before a full `just bench` (docs/performance.md).
#
#   scripts/instructions.sh DIR TARGET [WORKLOAD] [REQUESTS]
#
# DIR       a run directory kept by `scim-bench --keep` (its scim.db and the
#           tenant `bench`, 100,000 users as scim-bench preloads them:
#           W6 pages start anywhere up to user 99,800); it is copied, not
#           changed.
# TARGET    server: target/release/scim-server (or $SERVER_BIN) with a new
#                   token of `bench`;
#           floor:  `scim-bench --floor-server`, rendered (`/rendered`);
#           floor-memory: the same with groups from memory.
# WORKLOAD  w6 (default): GET /Users?startIndex=N&count=100, the same N
#           sequence every run; healthz: GET /healthz; w2: GET
#           /Users/{id}; w3: GET /Users?filter=userName eq "..."; w1: POST /Users
#           (server only; userNames new to the copy); w4: PATCH /Users/{id}
#           replacing active and displayName, as scim-bench sends it, on
#           the same users every run (server only).
# REQUESTS  counted requests (default 60), after 5 uncounted ones.
#
# Requests are sent one at a time by curl, whose own work is not counted.
# KEEP_PROFILE=FILE keeps the callgrind dump there (for callgrind_annotate).
set -euo pipefail

dir=${1:?usage: scripts/instructions.sh DIR TARGET [WORKLOAD] [REQUESTS]}
target=${2:?usage: scripts/instructions.sh DIR TARGET [WORKLOAD] [REQUESTS]}
workload=${3:-w6}
requests=${4:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
server_bin=${SERVER_BIN:-$root/target/release/scim-server}
bench_bin=$root/target/release/scim-bench
for tool in valgrind callgrind_control callgrind_annotate curl; do
    command -v "$tool" >/dev/null || { echo "instructions.sh: needs $tool" >&2; exit 1; }
done

[ "$requests" -gt 0 ] || { echo "instructions.sh: REQUESTS must be above 0" >&2; exit 1; }
fail() {
    echo "instructions.sh: $1" >&2
    [ -f "$work/valgrind.log" ] && tail -5 "$work/valgrind.log" >&2
    exit 1
}

pid=""
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$dir/scim.db" "$work/scim.db"
out=$work/callgrind.out

prefix=""
auth=()
case "$target" in
server)
    for k in $(env | grep -o '^SCIM__[A-Za-z0-9_]*' || true); do unset "$k"; done
    export SCIM__STORAGE__SQLITE__PATH=$work/scim.db SCIM__STORAGE__SQLITE__SYNCHRONOUS=full
    port=$((20000 + RANDOM % 20000))
    export SCIM__SERVER__BIND=127.0.0.1:$port
    token=$("$server_bin" token create --tenant bench --description instructions.sh)
    auth=(-H "Authorization: Bearer $token")
    (cd "$work" && exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$server_bin" serve >/dev/null 2>"$work/valgrind.log") &
    pid=$!
    addr=127.0.0.1:$port
    ;;
floor | floor-memory)
    [ "$target" = floor ] && prefix=/rendered || prefix=/groups-in-memory
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$bench_bin" --floor-server "$work/scim.db" --synchronous full >"$work/stdout" 2>"$work/valgrind.log" &
    pid=$!
    addr=""
    ;;
*)
    echo "instructions.sh: TARGET is server, floor or floor-memory" >&2
    exit 1
    ;;
esac

for _ in $(seq 1 600); do
    if [ -z "${addr:-}" ]; then
        addr=$(grep -o 'listening [^ ]*' "$work/stdout" 2>/dev/null | awk '{print $2}' || true)
    fi
    if [ -n "$addr" ] && curl -sf "http://$addr/healthz" >/dev/null 2>&1; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || fail "the $target under valgrind exited during start-up"
    sleep 0.2
done
[ -n "$addr" ] && curl -sf "http://$addr/healthz" >/dev/null 2>&1 || fail "the $target did not answer /healthz within 120 s"

case "$workload" in
w6 | healthz | w2 | w3) ;;
w1 | w4) [ "$target" = server ] || fail "$workload is measured on the server only" ;;
*) fail "WORKLOAD is w6, healthz, w2, w3, w1 or w4" ;;
esac
ids=()
if [ "$workload" = w4 ] || [ "$workload" = w2 ]; then
    # The first 100 users in id order: the same users every run on one DIR.
    mapfile -t ids < <(curl -sf "${auth[@]}" "http://$addr$prefix/scim/v2/Users?count=100&attributes=id" |
        grep -o '"id":"[^"]*"' | cut -d'"' -f4)
    [ "${#ids[@]}" -eq 100 ] || fail "could not list 100 user ids for $workload"
fi

request() {
    local path method=GET body=()
    case "$workload" in
    w6) path="$prefix/scim/v2/Users?startIndex=$(($1 * 15485863 % 99800 + 1))&count=100" ;;
    healthz) path=/healthz ;;
    w2) path="$prefix/scim/v2/Users/${ids[$(($1 * 7 % 100))]}" ;;
    w3) path="$prefix/scim/v2/Users?filter=userName%20eq%20%22$(printf 'user%07d' $(($1 * 15485863 % 99800)))%40example.com%22" ;;
    w1)
        path=/scim/v2/Users method=POST
        local name
        name=$(printf 'w1-%07d@example.com' "$1")
        body=(-H 'Content-Type: application/scim+json' --data-binary
            "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$name\",\"externalId\":\"ext-$1\",\"displayName\":\"User $1\",\"name\":{\"givenName\":\"User\",\"familyName\":\"N$1\"},\"active\":true,\"emails\":[{\"value\":\"$name\",\"type\":\"work\",\"primary\":true}]}")
        ;;
    w4)
        path=/scim/v2/Users/${ids[$(($1 * 7 % 100))]} method=PATCH
        body=(-H 'Content-Type: application/scim+json' --data-binary
            "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":$([ $(($1 % 2)) = 1 ] && echo true || echo false)},{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"User $1 ($1)\"}]}")
        ;;
    esac
    curl -s --max-time 60 -o /dev/null -w '%{http_code}\n' -X "$method" "${auth[@]}" "${body[@]}" "http://$addr$path" || true
}

for i in 1 2 3 4 5; do request $((i + 1000)) >/dev/null; done
callgrind_control -i on "$pid" >/dev/null || fail "callgrind_control cannot reach pid $pid"
statuses=$(for i in $(seq 1 "$requests"); do request "$i"; done | sort | uniq -c | tr -s ' ')
callgrind_control -i off "$pid" >/dev/null || fail "callgrind_control cannot reach pid $pid"
callgrind_control -d "$pid" >/dev/null || fail "callgrind_control could not dump pid $pid"
if [ "$(echo "$statuses" | awk '$2 != 200 && $2 != 201' | wc -l)" -ne 0 ]; then
    echo "instructions.sh: not every request answered 200: $statuses" >&2
    exit 1
fi
[ -f "$out.1" ] || fail "callgrind wrote no dump ($out.1)"
total=$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
[[ "$total" =~ ^[0-9]+$ ]] || fail "no instruction total in $out.1"
[ -n "${KEEP_PROFILE:-}" ] && cp "$out.1" "$KEEP_PROFILE"
echo "$target $workload: $((total / requests)) instructions per request ($requests requests, $total in all)"
