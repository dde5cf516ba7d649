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

# Criterion benchmarks of scim-core (parse, evaluate, PATCH).
bench:
    cargo bench -p scim-core --bench core

# Builds the cargo-fuzz targets with the stable toolchain.
fuzz-build:
    cargo build --manifest-path fuzz/Cargo.toml --bins

# Runs one fuzz target (needs cargo-fuzz and a nightly toolchain).
fuzz target="filter_parse" seconds="60":
    cargo +nightly fuzz run {{target}} -- -max_total_time={{seconds}}

# Everything CI runs.
ci:
    .ci/run
