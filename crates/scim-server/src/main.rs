//! The `scim-server` binary: parse the command line, run it.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    one_malloc_arena();
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

/// One glibc malloc arena for the whole process, unless the operator set
/// `MALLOC_ARENA_MAX` (glibc then already obeys it).
///
/// Why: by default glibc gives threads that allocate at once arenas of
/// their own (up to eight per core), each keeping its own free memory. Here
/// a page of a list is read on a blocking-pool thread and rendered and freed
/// on an HTTP worker, so every such thread grows an arena of its own.
/// Measured with `scim-bench --mode rss` on 1,000,000 users
/// (docs/performance.md): the peak resident set went from 64.0 MiB (over
/// the 64 MiB budget) to 54-56 MiB, at the same CPU per request. Small
/// allocations still come from each thread's own cache (tcache), so the
/// shared arena's lock is rarely taken.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "mallopt is glibc's C interface; see the SAFETY note")]
fn one_malloc_arena() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: mallopt only sets a malloc parameter and has no memory-safety
    // preconditions; it runs first thing in `main`, before the runtime
    // starts any other thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_malloc_arena() {}
