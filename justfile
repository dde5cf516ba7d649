# Tasks for contributors. `pip install rust-just` installs `just`.

default: check test

# Formatting and lints, exactly as CI checks them.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Every test in the workspace.
test:
    cargo test --workspace

fmt:
    cargo fmt --all

# Runs the server on the embedded SQLite default (prints a first token).
run:
    cargo run --release -p scim-server

# scim2-tester (../shared/conformance) against the server on a fresh
# backend: sqlite (default), redis or postgres (`just conformance redis`).
conformance backend="sqlite":
    SCIM_TESTER_BACKEND={{backend}} scripts/scim2-tester.sh

# The load benchmark over HTTP (docs/performance.md): the release server on
# a temporary SQLite pinned to CPU 0, the load generator on CPU 1, each
# workload as a ratio to the ceilings measured in the same run, the floors
# (what a bare actix-web + SQLite server reaches on the same data), then the
# memory and start-up check on 1,000,000 users. About 10 minutes. Extra
# arguments go to scim-bench (`just bench --seconds 5 --only W2,W3`).
bench *args:
    cargo build --release -p scim-server -p scim-bench
    target/release/scim-bench --mode all {{args}}

# Criterion benchmarks of scim-core (parse, evaluate, PATCH).
bench-core:
    cargo bench -p scim-core --bench core

# Builds the cargo-fuzz targets with the stable toolchain.
fuzz-build:
    cargo build --manifest-path fuzz/Cargo.toml --bins

# Runs one fuzz target, coverage-guided, on the stable toolchain (the same
# sancov flags cargo-fuzz passes; building for an explicit --target keeps them
# off build scripts). Corpus in fuzz/corpus/<target>, crashes in fuzz/.
fuzz target="filter_parse" seconds="60":
    cd fuzz && RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions" CARGO_TARGET_DIR=target/cov cargo build --release --bin {{target}} --target x86_64-unknown-linux-gnu
    mkdir -p fuzz/corpus/{{target}}
    fuzz/target/cov/x86_64-unknown-linux-gnu/release/{{target}} -max_total_time={{seconds}} fuzz/corpus/{{target}}

# Everything CI runs.
ci:
    .ci/run
