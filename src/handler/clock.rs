//! The clock a sweep decides with, and how an invocation waits by it: the system clock in
//! Lambda; a fixed, sped-up or driven clock in tests and in the day benchmark, where a wait
//! moves virtual time instead of sleeping.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The source of the instant every decision of a sweep uses.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this instant. The Lambda deadline is still measured on the system clock, and a
    /// wait returns at once (the instant never comes closer).
    Fixed(DateTime<Utc>),
    /// `from` at `since`, then running `speed` times faster than the system clock: a test
    /// makes a sweep of a second last minutes for the decisions taken after it.
    Running {
        from: DateTime<Utc>,
        since: Instant,
        speed: u32,
    },
    /// Set from outside, and moved by its driver when the invocation waits.
    Virtual(VirtualClock),
}

impl Clock {
    /// A clock at `from` now, running `speed` times faster than the system clock.
    pub fn running(from: DateTime<Utc>, speed: u32) -> Self {
        Clock::Running {
            from,
            since: Instant::now(),
            speed,
        }
    }

    /// The instant to decide with, given the system time `wall`.
    pub fn now(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Clock::System => wall,
            Clock::Fixed(at) => *at,
            Clock::Running { from, since, speed } => {
                let elapsed = since.elapsed().saturating_mul(*speed);
                *from + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
            }
            Clock::Virtual(clock) => clock.get(),
        }
    }

    /// Waits until `target` by this clock and returns the clock's instant after the wait
    /// (at once when `target` has come, or when the clock is fixed).
    pub async fn wait_until(&self, target: DateTime<Utc>) -> DateTime<Utc> {
        loop {
            let now = self.now(Utc::now());
            let left = match (target - now).to_std() {
                Ok(left) if !left.is_zero() => left,
                _ => return now,
            };
            match self {
                Clock::System => tokio::time::sleep(left).await,
                Clock::Running { speed, .. } => {
                    let real = left / (*speed).max(1);
                    tokio::time::sleep(real.max(Duration::from_millis(1))).await
                }
                Clock::Fixed(_) => return now,
                Clock::Virtual(clock) => return clock.advance(target).await,
            }
        }
    }
}

/// The function a virtual clock's driver moves it with: asked for a target, it answers the
/// instant it moved the clock to (`None` when it could not, which leaves the clock alone).
type Advance = dyn Fn(DateTime<Utc>) -> Option<DateTime<Utc>> + Send + Sync;

/// A clock in virtual time (the day benchmark's): it stands still at the instant it was set to
/// until its driver moves it, which it asks for when an invocation waits.
#[derive(Clone)]
pub struct VirtualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    driver: Arc<Advance>,
}

impl std::fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualClock")
            .field("now", &self.get())
            .finish_non_exhaustive()
    }
}

impl VirtualClock {
    /// A clock at `at`, moved by `driver` (which may block: it runs off the async threads).
    pub fn new(
        at: DateTime<Utc>,
        driver: impl Fn(DateTime<Utc>) -> Option<DateTime<Utc>> + Send + Sync + 'static,
    ) -> Self {
        VirtualClock {
            now: Arc::new(Mutex::new(at)),
            driver: Arc::new(driver),
        }
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// The clock's instant.
    pub fn get(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the driver to move the clock to `target`; the clock is then where the driver
    /// says (unchanged when the driver could not move it).
    async fn advance(&self, target: DateTime<Utc>) -> DateTime<Utc> {
        let driver = Arc::clone(&self.driver);
        if let Ok(Some(moved)) = tokio::task::spawn_blocking(move || driver(target)).await {
            self.set(moved);
        }
        self.get()
    }
}
