//! Sessions: many frames, one verdict. `liveshade_session_new`, `_push`, `_finish`,
//! `_challenge`, `_verdict`, `_verdict_json`, `_free`.

use std::ffi::{c_char, c_int};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use liveshade::{Engine, Session, SessionOptions, SessionOverrides, Verdict, VerdictKind};

use crate::check::{
    LIVESHADE_VERDICT_INCONCLUSIVE, LIVESHADE_VERDICT_LIVE, LIVESHADE_VERDICT_NONE, LIVESHADE_VERDICT_SPOOF, LiveshadeEngine, LiveshadePixelFormat,
    LiveshadeVerdict, engine, frame,
};
use crate::{Failure, ffi, give_string, handles, non_null, optional_str};

/// A session's verdict, once there is one.
#[repr(C)]
pub struct LiveshadeSessionVerdict {
    /// `LIVESHADE_VERDICT_NONE` (still collecting), `_LIVE`, `_SPOOF` or `_INCONCLUSIVE`.
    pub verdict: LiveshadeVerdict,
    /// The fused live probability.
    pub score: f32,
    /// Frames that passed the quality gates.
    pub frames_accepted: u32,
    /// Frames rejected by them.
    pub frames_rejected: u32,
    /// Natural blinks counted.
    pub blinks: u32,
    /// 1 when the flatness cue measured (enough motion), 0 otherwise.
    pub has_flatness: c_int,
    /// Median nose parallax in eye distances, on the face's texture (a plane is under
    /// 0.015, a head over 0.03).
    pub flatness: f32,
}

struct SessionState {
    session: Session<'static>,
    verdict: Option<Verdict>,
}

/// A liveness session on an engine.
pub struct LiveshadeSession {
    /// Keeps the engine alive while the session is.
    engine: Arc<Engine>,
    started: Instant,
    state: Mutex<SessionState>,
}

/// A session freed before its verdict leaves nothing on its engine either (the face region
/// the engine kept between its frames).
impl Drop for LiveshadeSession {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = state.session.release_on(&self.engine);
    }
}

fn session(handle: *const LiveshadeSession) -> Result<Arc<LiveshadeSession>, Failure> {
    non_null(handle, "session")?;
    handles::get(handle).ok_or_else(|| Failure::invalid("session is not a live session handle (freed already, or not made by liveshade_session_new)"))
}

fn session_options(json: Option<&str>) -> Result<SessionOptions, Failure> {
    let Some(json) = json else { return Ok(SessionOptions::passive()) };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Failure::invalid(format!("session options are not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| Failure::invalid("session options must be a JSON object"))?;
    let mut overrides = SessionOverrides::default();
    let number = |key: &str, v: &serde_json::Value| v.as_f64().ok_or_else(|| Failure::invalid(format!("option {key:?} must be a number")));
    let whole = |key: &str, v: &serde_json::Value| v.as_u64().ok_or_else(|| Failure::invalid(format!("option {key:?} must be a whole number")));
    let flag = |key: &str, v: &serde_json::Value| v.as_bool().ok_or_else(|| Failure::invalid(format!("option {key:?} must be true or false")));
    for (key, v) in object {
        match key.as_str() {
            "active" => overrides.active = flag(key, v)?,
            "time_limit_s" => overrides.time_limit_s = Some(number(key, v)?),
            "max_frames" => overrides.max_frames = Some(usize::try_from(whole(key, v)?).unwrap_or(usize::MAX)),
            "min_frames" => overrides.min_frames = Some(usize::try_from(whole(key, v)?).unwrap_or(usize::MAX)),
            "live_threshold" => overrides.live_threshold = Some(number(key, v)? as f32),
            "spoof_threshold" => overrides.spoof_threshold = Some(number(key, v)? as f32),
            "detect_every" => overrides.detect_every = Some(u32::try_from(whole(key, v)?).unwrap_or(u32::MAX)),
            "confirm_live" => overrides.confirm_live = Some(flag(key, v)?),
            other => {
                return Err(Failure::invalid(format!("unknown session option {other:?} ({})", SessionOverrides::NAMES.join(", "))));
            }
        }
    }
    Ok(overrides.options()?)
}

/// Starts a session on `engine`. `options_json` is NULL (passive, the defaults) or a JSON
/// object with any of `"active"` (random challenges), `"time_limit_s"`, `"max_frames"`,
/// `"min_frames"`, `"live_threshold"`, `"spoof_threshold"`, `"detect_every"` (BlazeFace at
/// least once in this many frames, default 10; between, the face is followed from its
/// landmarks; 1: every frame), `"confirm_live"` (false: MiniFASNet's fused score decides
/// passive mode alone, the published pipeline's rule; default true: it also needs a blink
/// or the nose's parallax). A value out of its range is `LIVESHADE_ERROR_INVALID_ARGUMENT`
/// naming it (`SessionOverrides` in the Rust crate says the ranges). Fails with
/// `LIVESHADE_ERROR_COOLING_DOWN` while sessions are refused after repeated failures.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_new(engine: *mut LiveshadeEngine, options_json: *const c_char, out: *mut *mut LiveshadeSession) -> c_int {
    ffi("liveshade_session_new", || {
        non_null(out, "out")?;
        let owner = self::engine(engine)?;
        // SAFETY: as documented above.
        let options = session_options(unsafe { optional_str(options_json, "options_json") }?)?;
        let session = Session::from_reports_with_guard(options, &owner.failures)?;
        let handle =
            LiveshadeSession { engine: Arc::clone(&owner.engine), started: Instant::now(), state: Mutex::new(SessionState { session, verdict: None }) };
        // SAFETY: `out` is not NULL.
        unsafe { *out = handles::register(handle) };
        Ok(())
    })
}

fn verdict_code(kind: VerdictKind) -> LiveshadeVerdict {
    match kind {
        VerdictKind::Live => LIVESHADE_VERDICT_LIVE,
        VerdictKind::Spoof => LIVESHADE_VERDICT_SPOOF,
        VerdictKind::Inconclusive => LIVESHADE_VERDICT_INCONCLUSIVE,
    }
}

fn state(handle: &LiveshadeSession) -> Result<std::sync::MutexGuard<'_, SessionState>, Failure> {
    handle.state.lock().map_err(|_| Failure::invalid("the session is unusable: a call on it panicked; free it"))
}

/// Checks one frame in the session. `timestamp_s` is the frame's capture time in seconds
/// (any origin, increasing), or negative for "now". `*verdict_out` (may be NULL) becomes
/// the verdict once there is one, `LIVESHADE_VERDICT_NONE` before.
///
/// # Safety
/// As `liveshade_check`; `verdict_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_push(
    session: *mut LiveshadeSession,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: u32,
    format: LiveshadePixelFormat,
    timestamp_s: f64,
    verdict_out: *mut LiveshadeVerdict,
) -> c_int {
    ffi("liveshade_session_push", || {
        let handle = self::session(session)?;
        // SAFETY: as documented above.
        let frame = unsafe { frame(pixels, width, height, stride, format) }?;
        let mut state = state(&handle)?;
        if state.verdict.is_none() {
            let t = if timestamp_s >= 0.0 && timestamp_s.is_finite() { timestamp_s } else { handle.started.elapsed().as_secs_f64() };
            state.verdict = state.session.push_checked_on(&handle.engine, &frame, t)?;
        }
        if !verdict_out.is_null() {
            // SAFETY: not NULL, writable by the contract.
            unsafe { *verdict_out = state.verdict.as_ref().map_or(LIVESHADE_VERDICT_NONE, |v| verdict_code(v.kind)) };
        }
        Ok(())
    })
}

/// Active mode: the challenge now expected, to be shown to the person: `"blink"`,
/// `"turn_left"`, `"turn_right"` or `"open_mouth"` (static strings, not to be freed);
/// `*challenge_out` becomes NULL in passive mode and once every challenge is met.
///
/// # Safety
/// `challenge_out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_challenge(session: *mut LiveshadeSession, challenge_out: *mut *const c_char) -> c_int {
    ffi("liveshade_session_challenge", || {
        non_null(challenge_out, "challenge_out")?;
        let handle = self::session(session)?;
        let state = state(&handle)?;
        let name = state.session.current_challenge().map_or(std::ptr::null(), |c| challenge_name(c).as_ptr());
        // SAFETY: not NULL, writable by the contract.
        unsafe { *challenge_out = name };
        Ok(())
    })
}

/// The challenge's name as a C string with the lifetime of the program.
fn challenge_name(challenge: liveshade::Challenge) -> &'static std::ffi::CStr {
    match challenge {
        liveshade::Challenge::Blink => c"blink",
        liveshade::Challenge::TurnLeft => c"turn_left",
        liveshade::Challenge::TurnRight => c"turn_right",
        liveshade::Challenge::OpenMouth => c"open_mouth",
    }
}

/// Ends the session now (the frames ran out): a verdict, inconclusive if undecided.
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_session_finish(session: *mut LiveshadeSession) -> c_int {
    ffi("liveshade_session_finish", || {
        let handle = self::session(session)?;
        let mut state = state(&handle)?;
        if state.verdict.is_none() {
            let verdict = state.session.finish_checked_on(&handle.engine)?;
            state.verdict = Some(verdict);
        }
        Ok(())
    })
}

/// Fills `*out` with the session's verdict (`verdict` is `LIVESHADE_VERDICT_NONE` while it
/// is still collecting frames).
///
/// # Safety
/// `out` points at a writable `LiveshadeSessionVerdict`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_verdict(session: *mut LiveshadeSession, out: *mut LiveshadeSessionVerdict) -> c_int {
    ffi("liveshade_session_verdict", || {
        non_null(out, "out")?;
        let handle = self::session(session)?;
        let state = state(&handle)?;
        let value = match &state.verdict {
            None => LiveshadeSessionVerdict {
                verdict: LIVESHADE_VERDICT_NONE,
                score: 0.0,
                frames_accepted: 0,
                frames_rejected: 0,
                blinks: 0,
                has_flatness: 0,
                flatness: 0.0,
            },
            Some(v) => LiveshadeSessionVerdict {
                verdict: verdict_code(v.kind),
                score: v.score,
                frames_accepted: v.frames_accepted as u32,
                frames_rejected: v.frames_rejected as u32,
                blinks: v.cues.blinks,
                has_flatness: v.cues.flatness.is_some() as c_int,
                flatness: v.cues.flatness.unwrap_or(0.0),
            },
        };
        // SAFETY: not NULL, writable by the contract.
        unsafe { *out = value };
        Ok(())
    })
}

/// The session's verdict as the JSON of `liveshade session --json` (with its reasons),
/// freed with `liveshade_string_free`; an error while there is no verdict yet.
///
/// # Safety
/// `json_out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_verdict_json(session: *mut LiveshadeSession, json_out: *mut *mut c_char) -> c_int {
    ffi("liveshade_session_verdict_json", || {
        non_null(json_out, "json_out")?;
        let json = session_verdict(session, |_, verdict| verdict.to_json())?;
        give_string(json, json_out)
    })
}

/// Applies `f` to the session's engine and verdict; an error while there is no verdict yet.
pub(crate) fn session_verdict<T>(session: *mut LiveshadeSession, f: impl FnOnce(&Engine, &Verdict) -> T) -> Result<T, Failure> {
    let handle = self::session(session)?;
    let state = state(&handle)?;
    let verdict = state.verdict.as_ref().ok_or_else(|| Failure::invalid("the session has no verdict yet (push more frames, or liveshade_session_finish)"))?;
    Ok(f(&handle.engine, verdict))
}

/// Frees a session (NULL and freed handles are ignored). A session freed before its verdict
/// counts as neither a success nor a failure.
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_session_free(session: *mut LiveshadeSession) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handles::release(session)));
}
