//! The `pixfront` command: `serve`, `explain`, `sign`, `render`, `health`; the Lambda `bootstrap` when started by Lambda.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pixfront",
    version,
    about = "On-the-fly image handler with SIH-compatible URLs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the local HTTP server (every setting is a flag or an environment variable).
    Serve(pixfront::server::settings::ServeArgs),
    /// Print the canonical request a URL parses into (JSON), or its error (exit 2).
    Explain(pixfront::cli::explain::Args),
    /// Print a URL path with its signature parameter.
    Sign(pixfront::cli::sign::Args),
    /// Write the renditions of a renditions document for every image of a folder.
    Render(pixfront::cli::render::Args),
    /// Ask a running server for /?health (exit 0 on 200): the container's HEALTHCHECK.
    Health(pixfront::cli::health::Args),
}

fn main() {
    limit_malloc_arenas();
    // Lambda starts the `bootstrap` without arguments; the Runtime API address says it is Lambda.
    if pixfront::lambda::requested() {
        std::process::exit(pixfront::lambda::main());
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let rt = tokio::runtime::Runtime::new().expect("cannot start the tokio runtime");
            if let Err(e) = rt.block_on(pixfront::server::run(args)) {
                eprintln!("pixfront serve: {e}");
                std::process::exit(1);
            }
        }
        Command::Explain(args) => std::process::exit(pixfront::cli::explain::run(&args)),
        Command::Sign(args) => std::process::exit(pixfront::cli::sign::run(&args)),
        Command::Render(args) => std::process::exit(pixfront::cli::render::run(&args)),
        Command::Health(args) => std::process::exit(pixfront::cli::health::run(&args)),
    }
}

/// glibc gives threads that allocate at once their own malloc arenas (up to 8 per core), and each
/// blocking thread that renders images keeps its peak in its own: with two arenas the server's
/// peak RSS under load was about half (docs/performance.md). `MALLOC_ARENA_MAX` still wins.
fn limit_malloc_arenas() {
    // glibc's own declaration (malloc.h), so the binary needs no crate for one call.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_ARENA_MAX: std::ffi::c_int = -8;
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only changes an allocator setting; no other thread exists yet.
            unsafe { mallopt(M_ARENA_MAX, 2) };
        }
    }
}
