//! The `leakhound` command: a thin layer over the library. Errors become messages and exit codes
//! here, and nowhere else.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
