#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    umgate::cli::main()
}
