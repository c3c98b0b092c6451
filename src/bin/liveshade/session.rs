//! `liveshade session DIR`: one session over a folder of frames.

use std::path::Path;

use liveshade::{Engine, FolderSource, FrameSource, Sessions};

use crate::{AdapterArgs, SessionArgs};

/// Runs the session and prints its verdict.
pub fn run(dir: &Path, args: &SessionArgs, adapter: &AdapterArgs) -> Result<bool, liveshade::Error> {
    let json = args.json;
    let mut source = FolderSource::open(dir, args.fps)?;
    let engine = Engine::new(adapter.engine_options()?)?;
    let sessions = Sessions::new(&engine);
    let mut session = sessions.start(args.options())?;
    if !session.challenges().is_empty() && !json {
        let steps: Vec<&str> = session.challenges().iter().map(|c| c.as_str()).collect();
        println!("challenges: {}", steps.join(", "));
    }
    let mut verdict = None;
    while let Some(frame) = source.next_frame()? {
        if let Some(v) = session.push_at(&frame.frame()?, frame.timestamp)? {
            verdict = Some(v);
            break;
        }
    }
    let verdict = verdict.unwrap_or_else(|| session.finish());
    if json {
        println!("{}", verdict.to_json());
    } else {
        println!(
            "{}: {} (score {:.3}; {} frames used, {} rejected)",
            dir.display(),
            verdict.kind.as_str(),
            verdict.score,
            verdict.frames_accepted,
            verdict.frames_rejected
        );
        for reason in &verdict.reasons {
            println!("  - {reason}");
        }
    }
    Ok(true)
}
