//! The `scim-server` binary: parse the command line, run it.

use clap::Parser;
use std::process::ExitCode;

/// Rust's allocations go to mimalloc: glibc's malloc, free and the
/// consolidation of freed chunks took 12% of the server's CPU on a page of
/// 100 users (W6), whose text is built in many strings of a few hundred
/// bytes and one of a hundred kilobytes. W6 server CPU 237-245 -> 209-216
/// µs per request in alternating runs (docs/performance.md, eleventh
/// session). Earlier sessions left it out for memory: pages were read on
/// blocking-pool threads, each keeping a heap, and mimalloc asks for
/// transparent huge pages; pages are now read on the HTTP worker, and the
/// `no_thp` feature (Cargo.toml) keeps the peak on 1M users at 51-53 MiB.
/// (glibc's malloc still serves SQLite, which is C; limiting it to one
/// arena, as the server did before, made no difference with mimalloc.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cli = scim_server::cli::Cli::parse();
    match runtime.block_on(scim_server::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
