//! The `latchkey` binary: everything lives in the `latchkey-api` library.

fn main() -> std::process::ExitCode {
    latchkey_api::cli::main()
}
