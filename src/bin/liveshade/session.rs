//! `liveshade session DIR`: one session over a folder of frames.

use std::path::Path;

use liveshade::signing::{Provenance, sign_verdict};
use liveshade::{Engine, FolderSource, FrameSource, Sessions};

use crate::sign::SignArgs;
use crate::{AdapterArgs, SessionArgs};

/// Runs the session and prints its verdict (signed with `--sign`).
pub fn run(dir: &Path, args: &SessionArgs, adapter: &AdapterArgs, sign: &SignArgs) -> Result<bool, liveshade::Error> {
    let signer = sign.signer()?;
    let json = args.json || signer.is_some();
    let mut source = FolderSource::open(dir, args.fps)?;
    // No warm-up frame: the folder's frames are checked at once (as `check`'s files).
    let engine = Engine::new(liveshade::EngineOptions { warm_up: None, ..adapter.engine_options()? })?;
    let sessions = Sessions::new(&engine);
    let mut session = sessions.start(args.options())?;
    if !session.challenges().is_empty() && !json {
        let steps: Vec<&str> = session.challenges().iter().map(|c| c.as_str()).collect();
        println!("challenges: {}", steps.join(", "));
    }
    let mut verdict = None;
    loop {
        // A file that cannot be decoded is a rejected frame, counted in the verdict.
        let pushed = match source.next_frame() {
            Ok(Some(frame)) => session.push_at(&frame.frame()?, frame.timestamp)?,
            Ok(None) => break,
            Err(error @ liveshade::Error::Image { .. }) => {
                eprintln!("liveshade: {error}: rejected");
                session.push_unreadable()
            }
            Err(error) => return Err(error),
        };
        if let Some(v) = pushed {
            verdict = Some(v);
            break;
        }
    }
    let verdict = verdict.unwrap_or_else(|| session.finish());
    if let Some((key, nonce)) = &signer {
        println!("{}", sign_verdict(&verdict, &Provenance::of_adapter(engine.adapter()), nonce, key));
    } else if json {
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
