//! Virtual time: the clock the store stamps `createdon` and `modifiedon` with. A leaf: the
//! admin endpoints that set it live in `timeline.rs`. Nothing here sleeps.

use chrono::{DateTime, Utc};

/// Where the simulator's "now" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SimClock {
    /// The system clock.
    #[default]
    System,
    /// Always this moment, until set again.
    Fixed(DateTime<Utc>),
}

impl SimClock {
    /// The current moment by this clock.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            SimClock::System => Utc::now(),
            SimClock::Fixed(at) => at,
        }
    }
}
