//! The liveshade command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liveshade::gpu::{Backend, list_adapters};

#[derive(Parser)]
#[command(name = "liveshade", version, about = "Face liveness on the GPU (WGSL compute shaders on wgpu)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the GPU adapters of every backend.
    Devices {
        /// Only this backend: auto, vulkan, metal, dx12 or gl.
        #[arg(long, default_value = "auto")]
        backend: String,
    },
}

fn devices(backend: &str) -> Result<(), liveshade::Error> {
    let backend: Backend = backend.parse()?;
    println!("GPU adapters:");
    let adapters: Vec<_> = list_adapters()
        .into_iter()
        .filter(|a| backend == Backend::Auto || a.backend == backend)
        .collect();
    if adapters.is_empty() {
        println!("  none found. On Linux without a GPU, install Mesa's software drivers: apt-get install mesa-vulkan-drivers");
    }
    for (index, adapter) in adapters.iter().enumerate() {
        println!("  [{index}] {adapter}");
    }
    for b in Backend::ALL {
        if !b.is_built() {
            println!("  ({b}: not available on this platform)");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices { backend } => devices(&backend),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("liveshade: {error}");
            ExitCode::FAILURE
        }
    }
}
