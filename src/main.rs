//! The `pixfront` command: `serve`, `explain`, `sign`.

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
    /// Run the local HTTP server.
    Serve,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => {}
    }
}
