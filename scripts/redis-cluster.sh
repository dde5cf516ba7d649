#!/usr/bin/env bash
# A throwaway three-master Redis Cluster on loopback, for the Redis store's
# cluster tests (crates/scim-store-redis/tests/cluster.rs).
#
#   scripts/redis-cluster.sh start   starts it; prints the value for
#                                    SCIM_TEST_REDIS_CLUSTER_NODES on stdout
#   scripts/redis-cluster.sh stop    stops it and removes its directory
#
#   export SCIM_TEST_REDIS_CLUSTER_NODES=$(scripts/redis-cluster.sh start)
#   cargo test -p scim-store-redis --test cluster
#   scripts/redis-cluster.sh stop
#
# Ports default to 17001-17003 (below the kernel's ephemeral range, which
# starts at 32768); REDIS_CLUSTER_PORTS="p1 p2 p3" picks others. Nothing is
# persisted (--save '' --appendonly no). State lives in one directory
# (REDIS_CLUSTER_DIR, default $TMPDIR/scim-redis-cluster): node configs,
# logs and pid files; stop kills exactly the pids recorded there.
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-17001 17002 17003})
DIR=${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/scim-redis-cluster}

log() { echo "redis-cluster: $*" >&2; }

nodes_value() {
    local out=() p
    for p in "${PORTS[@]}"; do out+=("redis://127.0.0.1:$p"); done
    (IFS=,; echo "${out[*]}")
}

wait_for() { # seconds, then a command that succeeds when ready
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then return 1; fi
        sleep 0.1
    done
}

cluster_ok() { redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'; }

start() {
    command -v redis-server >/dev/null || { log "redis-server is not installed"; exit 1; }
    if [[ -d $DIR ]]; then
        log "$DIR exists: stopping what it holds first"
        stop
    fi
    mkdir -p "$DIR"
    local p
    for p in "${PORTS[@]}"; do
        if redis-cli -p "$p" ping >/dev/null 2>&1; then
            log "port $p is already taken by a Redis"; exit 1
        fi
        redis-server --port "$p" --bind 127.0.0.1 \
            --cluster-enabled yes --cluster-config-file "$DIR/nodes-$p.conf" \
            --cluster-node-timeout 5000 \
            --save '' --appendonly no --daemonize yes \
            --dir "$DIR" --pidfile "$DIR/redis-$p.pid" --logfile "$DIR/redis-$p.log"
    done
    for p in "${PORTS[@]}"; do
        wait_for 10 redis-cli -p "$p" ping || { log "node $p did not start (see $DIR/redis-$p.log)"; exit 1; }
    done
    local addrs=()
    for p in "${PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 \
        || { log "cluster create failed (see $DIR/create.log)"; exit 1; }
    for p in "${PORTS[@]}"; do
        wait_for 30 cluster_ok "$p" || { log "node $p never reported cluster_state:ok"; exit 1; }
    done
    log "cluster up in $DIR"
    nodes_value
}

stop() {
    local f pid
    shopt -s nullglob
    for f in "$DIR"/redis-*.pid; do
        pid=$(<"$f")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            # Wait for it to exit so the ports are free for the next start.
            wait_for 10 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$DIR"
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
