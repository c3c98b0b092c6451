//! The liveshade command line: one file per subcommand (`check.rs`, `session.rs`,
//! `watch.rs`, `bench.rs`, `devices.rs`; `sign.rs` for keygen, verify and `--sign`). The
//! JSON of the DESIGN.md contract is the library's (src/json.rs).

mod bench;
mod check;
mod devices;
mod session;
mod sign;
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
    /// Keep the driver's compiled pipelines in this existing directory between runs
    /// (adapters with wgpu's pipeline cache); without it no file is written.
    #[arg(long, value_name = "DIR")]
    pub pipeline_cache: Option<PathBuf>,
}

impl AdapterArgs {
    /// Engine options for this adapter.
    pub fn engine_options(&self) -> Result<EngineOptions, liveshade::Error> {
        let backend: Backend = self.backend.parse()?;
        Ok(EngineOptions {
            gpu: GpuOptions { backend, adapter_name: self.adapter.clone(), pipeline_cache_dir: self.pipeline_cache.clone() },
            ..Default::default()
        })
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
    /// Run BlazeFace at least once in this many frames (and on the first, and when the
    /// face is lost); between, the face is followed from its landmarks. 1: every frame.
    #[arg(long, default_value_t = SessionOptions::passive().detect_every, value_parser = clap::value_parser!(u32).range(1..))]
    pub detect_every: u32,
}

impl SessionArgs {
    /// Passive or active session options.
    pub fn options(&self) -> SessionOptions {
        let options = if self.active { SessionOptions::active() } else { SessionOptions::passive() };
        SessionOptions { detect_every: self.detect_every, ..options }
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
        #[command(flatten)]
        sign: sign::SignArgs,
    },
    /// Sessions one after another from a camera (after asking for consent) or a folder of
    /// frames, each verdict printed as it comes, with a live status line.
    Watch(watch::WatchArgs),
    /// Latency and throughput of the whole pipeline and of each stage, per adapter.
    Bench(bench::BenchArgs),
    /// Make an Ed25519 key pair for signing results (`--sign`); never replaces a file.
    Keygen {
        /// Where the secret key goes (readable by its owner only).
        #[arg(long, value_name = "KEY.sec")]
        secret: PathBuf,
        /// Where the public key goes (for the server).
        #[arg(long, value_name = "KEY.pub")]
        public: PathBuf,
    },
    /// Check a signed result: exit status 0 only if it is signed by this key over this
    /// nonce and unchanged; prints what was signed.
    Verify {
        /// The terminal's public key (from `liveshade keygen`).
        #[arg(long, value_name = "KEY.pub")]
        public: PathBuf,
        /// The nonce the server sent for this result.
        #[arg(long, value_name = "HEX")]
        nonce: String,
        /// The signed result (`-` reads stdin).
        result: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices { backend } => devices::run(&backend).map(|()| true),
        Command::Check(args) => check::run(&args),
        Command::Session { dir, session, adapter, sign } => session::run(&dir, &session, &adapter, &sign),
        Command::Bench(args) => bench::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Keygen { secret, public } => sign::keygen(&secret, &public),
        Command::Verify { public, nonce, result } => sign::verify(&public, &nonce, &result),
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
