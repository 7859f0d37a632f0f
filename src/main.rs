//! The `latchkey` binary: everything lives in the `latchkey-api` library.

/// See the note on `mimalloc` in Cargo.toml: password hashing's large blocks go back to
/// the operating system instead of piling up in glibc's arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    latchkey_api::cli::main()
}
