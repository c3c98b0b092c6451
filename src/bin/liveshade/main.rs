//! The liveshade command line: one file per subcommand (`check.rs`, `session.rs`,
//! `watch.rs`, `bench.rs`, `devices.rs`), the JSON of the DESIGN.md contract in `json.rs`.

mod bench;
mod check;
mod devices;
mod session;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use liveshade::{Backend, EngineOptions, GpuOptions, SessionOptions};

#[derive(Parser)]
#[command(name = "liveshade", version, about = "Face liveness on the GPU (WGSL compute shaders on wgpu)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which adapter to run on (every subcommand that runs the engine).
#[derive(Args, Clone, Debug)]
pub struct AdapterArgs {
    /// auto, vulkan, metal, dx12 or gl.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Take the first adapter whose name contains this text.
    #[arg(long)]
    pub adapter: Option<String>,
}

impl AdapterArgs {
    /// Engine options for this adapter.
    pub fn engine_options(&self) -> Result<EngineOptions, liveshade::Error> {
        let backend: Backend = self.backend.parse()?;
        Ok(EngineOptions { gpu: GpuOptions { backend, adapter_name: self.adapter.clone() }, ..Default::default() })
    }
}

/// How sessions run (session and watch).
#[derive(Args, Clone, Debug)]
pub struct SessionArgs {
    /// Ask for a random sequence of challenges (a recording cannot know them).
    #[arg(long)]
    pub active: bool,
    /// One JSON object per verdict (DESIGN.md).
    #[arg(long)]
    pub json: bool,
    /// The frames' rate when read from a folder, for the time limits and the speed gate.
    #[arg(long, default_value_t = 25.0)]
    pub fps: f64,
}

impl SessionArgs {
    /// Passive or active session options.
    pub fn options(&self) -> SessionOptions {
        if self.active { SessionOptions::active() } else { SessionOptions::passive() }
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the GPU adapters of every backend, and the cameras.
    Devices {
        /// Only this backend: auto, vulkan, metal, dx12 or gl.
        #[arg(long, default_value = "auto")]
        backend: String,
    },
    /// Check images for a live face: one report per image.
    Check(check::CheckArgs),
    /// A liveness session over a folder of frames (sorted by name): one verdict.
    Session {
        /// A folder of .jpg / .png frames.
        dir: PathBuf,
        #[command(flatten)]
        session: SessionArgs,
        #[command(flatten)]
        adapter: AdapterArgs,
    },
    /// Sessions one after another from a camera (after asking for consent) or a folder of
    /// frames, each verdict printed as it comes, with a live status line.
    Watch(watch::WatchArgs),
    /// Latency and throughput of the whole pipeline and of each stage, per adapter.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices { backend } => devices::run(&backend).map(|()| true),
        Command::Check(args) => check::run(&args),
        Command::Session { dir, session, adapter } => session::run(&dir, &session, &adapter),
        Command::Bench(args) => bench::run(&args),
        Command::Watch(args) => watch::run(&args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("liveshade: {error}");
            ExitCode::from(2)
        }
    }
}
