//! The `pixfront` command: `serve`, `explain`, `sign`, `render`; the Lambda `bootstrap` when started by Lambda.

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
}

fn main() {
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
    }
}
