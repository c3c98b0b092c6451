//! Active challenges: a random sequence the person must perform in order.

use super::cues::{MOUTH_OPEN, TURN_DEGREES};
use crate::engine::landmarks::{self, Point};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
/// What active mode asks the person to do.
pub enum Challenge {
    /// Close and reopen the eyes.
    Blink,
    /// The subject turns to their left.
    TurnLeft,
    /// The subject turns to their right.
    TurnRight,
    /// Open the mouth.
    OpenMouth,
}

impl Challenge {
    /// Every challenge.
    pub const ALL: [Challenge; 4] = [Challenge::Blink, Challenge::TurnLeft, Challenge::TurnRight, Challenge::OpenMouth];

    /// The name the JSON and the status line use.
    pub fn as_str(self) -> &'static str {
        match self {
            Challenge::Blink => "blink",
            Challenge::TurnLeft => "turn_left",
            Challenge::TurnRight => "turn_right",
            Challenge::OpenMouth => "open_mouth",
        }
    }

    /// Whether this frame (with `blinked`: a blink just ended) meets the challenge.
    pub fn met(self, points: &[Point], blinked: bool) -> bool {
        match self {
            Challenge::Blink => blinked,
            Challenge::TurnLeft => landmarks::pose(points).yaw >= TURN_DEGREES,
            Challenge::TurnRight => landmarks::pose(points).yaw <= -TURN_DEGREES,
            Challenge::OpenMouth => landmarks::mouth_openness(points) >= MOUTH_OPEN,
        }
    }
}

/// Two or three distinct challenges drawn from the operating system's random source, so a
/// recording cannot know them in advance.
pub fn random_sequence() -> Result<Vec<Challenge>, getrandom::Error> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes)?;
    let count = 2 + (bytes[0] % 2) as usize;
    let mut pool = Challenge::ALL.to_vec();
    let mut sequence = Vec::with_capacity(count);
    for byte in &bytes[1..=count] {
        sequence.push(pool.remove(*byte as usize % pool.len()));
    }
    Ok(sequence)
}
