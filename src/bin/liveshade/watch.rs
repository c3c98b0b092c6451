//! `liveshade watch`: sessions one after another from a camera (after consent) or a
//! folder of frames, with a live status line and optionally the preview window.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use liveshade::signing::{Provenance, sign_verdict};
use liveshade::{Engine, FolderSource, FrameSource, SessionOptions, Sessions, WatchEvent};

use crate::sign::SignArgs;
use crate::{AdapterArgs, SessionArgs};

/// The arguments of `watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The camera's index (liveshade devices lists them).
    #[arg(long, default_value_t = 0)]
    camera: u32,
    /// The camera mode, WIDTHxHEIGHT@FPS (e.g. 640x480@30); the driver's default if absent.
    #[arg(long)]
    mode: Option<String>,
    /// Read frames from this folder instead of a camera (sorted by name).
    #[arg(long)]
    frames: Option<PathBuf>,
    #[command(flatten)]
    session: SessionArgs,
    /// The person has agreed already: do not ask.
    #[arg(long)]
    consent: bool,
    #[command(flatten)]
    adapter: AdapterArgs,
    /// Show a preview window: the frame, the face box, the challenge and the verdict.
    #[arg(long, conflicts_with = "sign")]
    window: bool,
    /// With --window: close it once the frames run out.
    #[arg(long)]
    close_when_done: bool,
    /// Use the camera even if it is a virtual one (v4l2loopback, OBS Virtual Camera, ...:
    /// software that can feed a recording as a camera); refused without this.
    #[arg(long)]
    allow_virtual_camera: bool,
    /// With --sign: one session, its result signed over the server's nonce (a nonce is for
    /// one result), recording the camera.
    #[command(flatten)]
    sign: SignArgs,
}

/// A frame source and the camera behind it as a signed result records it (None: files).
type Opened = (Box<dyn FrameSource>, Option<String>);

/// Asks on the terminal; anything but yes is no.
fn ask_consent(camera: u32) -> bool {
    eprint!("liveshade will use camera {camera} to check liveness. Frames stay in memory and are erased after each verdict. Allow? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(feature = "camera")]
fn open_camera(index: u32, mode: Option<(u32, u32, u32)>, consent_flag: bool, allow_virtual: bool) -> Result<Option<Opened>, liveshade::Error> {
    use liveshade::camera::{Camera, Consent, list_cameras};
    let cameras = list_cameras()?;
    if cameras.is_empty() {
        return Err(liveshade::Error::Camera { reason: "no camera found (liveshade devices lists them)".into() });
    }
    let description = cameras.iter().find(|c| c.index == index);
    if let Some(camera) = description.filter(|c| c.virtual_camera.is_some() && !allow_virtual) {
        return Err(liveshade::Error::Camera {
            reason: format!(
                "camera {index}, {}: it can feed a recording as a live face. Use a real camera, or pass --allow-virtual-camera to test with it",
                camera.identity()
            ),
        });
    }
    if !consent_flag && !ask_consent(index) {
        return Ok(None);
    }
    // The person said yes (or the operator passed --consent on their behalf).
    let camera = Camera::open(index, mode, Consent::given_by_user())?;
    let identity = description.map(|c| c.identity()).unwrap_or_else(|| format!("camera {index} (not listed by the platform)"));
    Ok(Some((Box::new(camera), Some(identity))))
}

#[cfg(not(feature = "camera"))]
fn open_camera(_index: u32, _mode: Option<(u32, u32, u32)>, _consent_flag: bool, _allow_virtual: bool) -> Result<Option<Opened>, liveshade::Error> {
    let _ = ask_consent;
    Err(liveshade::Error::Camera { reason: "this build has no camera support (the `camera` feature is off)".into() })
}

/// "640x480@30" -> (640, 480, 30).
fn parse_mode(text: Option<&str>) -> Result<Option<(u32, u32, u32)>, liveshade::Error> {
    let Some(text) = text else { return Ok(None) };
    let bad = || liveshade::Error::Camera { reason: format!("camera mode {text:?} is not WIDTHxHEIGHT@FPS (e.g. 640x480@30)") };
    let (size, fps) = text.split_once('@').ok_or_else(bad)?;
    let (w, h) = size.split_once('x').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    Ok(Some((number(w)?, number(h)?, number(fps)?)))
}

/// Watches until the frames run out (or the window is closed); false without consent.
pub fn run(args: &WatchArgs) -> Result<bool, liveshade::Error> {
    let mode = parse_mode(args.mode.as_deref())?;
    let signer = args.sign.signer()?;
    let json = args.session.json || signer.is_some();
    let (mut source, camera): Opened = match &args.frames {
        Some(dir) => (Box::new(FolderSource::open(dir, args.session.fps)?), None),
        None => match open_camera(args.camera, mode, args.consent, args.allow_virtual_camera)? {
            Some(opened) => opened,
            None => {
                eprintln!("liveshade: no consent, the camera stays closed");
                return Ok(false);
            }
        },
    };
    let engine = Engine::new(args.adapter.engine_options()?)?;
    let provenance = Provenance { camera, ..Provenance::of_adapter(engine.adapter()) };
    let sessions = Sessions::new(&engine);
    let options = args.session.options();
    let started = std::time::Instant::now();
    let mut frames_seen = 0usize;
    let on_event = |event: WatchEvent<'_>| match event {
        WatchEvent::Status(status) => {
            frames_seen += 1;
            if !json {
                let challenge = status.challenge.map(|c| c.as_str()).unwrap_or("-");
                eprint!(
                    "\r[session {}] frame {:>3}  face: {:<3}  challenge: {:<10}  {:>5.1} s ",
                    status.session + 1,
                    status.frames,
                    if status.face_found { "yes" } else { "no" },
                    challenge,
                    status.elapsed
                );
                let _ = std::io::stderr().flush();
            }
        }
        WatchEvent::Verdict(verdict) => {
            if let Some((key, nonce)) = &signer {
                println!("{}", sign_verdict(verdict, &provenance, nonce, key));
            } else if json {
                println!("{}", verdict.to_json());
            } else {
                eprintln!();
                println!(
                    "{} (score {:.3}; {} frames used, {} rejected): {}",
                    verdict.kind.as_str(),
                    verdict.score,
                    verdict.frames_accepted,
                    verdict.frames_rejected,
                    verdict.reasons.first().map(String::as_str).unwrap_or("")
                );
            }
        }
    };
    let result = match args.window {
        true => preview_window(&sessions, source, options, args.close_when_done, on_event),
        false => liveshade::watch(&sessions, source.as_mut(), &options, signer.as_ref().map(|_| 1), on_event).map(|_| ()),
    };
    let seconds = started.elapsed().as_secs_f64();
    if !json {
        eprintln!("{frames_seen} frames in {seconds:.1} s ({:.1} frames per second)", frames_seen as f64 / seconds.max(1e-9));
    }
    result.map(|_| true)
}

#[cfg(feature = "window")]
fn preview_window(
    sessions: &Sessions<'_>,
    source: Box<dyn FrameSource>,
    options: SessionOptions,
    close_when_done: bool,
    on_event: impl FnMut(WatchEvent<'_>),
) -> Result<(), liveshade::Error> {
    liveshade::preview::run(sessions, source, options, close_when_done, on_event)
}

#[cfg(not(feature = "window"))]
fn preview_window(_: &Sessions<'_>, _: Box<dyn FrameSource>, _: SessionOptions, _: bool, _: impl FnMut(WatchEvent<'_>)) -> Result<(), liveshade::Error> {
    Err(liveshade::Error::Gpu { during: "the preview window", message: "this build has no window support (the `window` feature is off)".into() })
}
