#![forbid(unsafe_code)]

// jemalloc: glibc's malloc cost about a third of the batch path's CPU (arena locking, chunk
// consolidation) and kept more memory per busy thread; measured in BENCHMARKS.md (issue 5).
#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    umgate::cli::main()
}
