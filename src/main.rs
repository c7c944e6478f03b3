#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: `umgate process` allocates and frees millions of
/// small values per file (segments, cases, answers) on two threads, and glibc's malloc took a
/// quarter of its time. Measured in BENCHMARKS.md ("umgate process (issue 5)").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    umgate::cli::main()
}
