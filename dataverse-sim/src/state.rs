//! [`State`], everything the simulator knows, and the one lock that guards it. This module
//! holds data only: it imports the data types it stores and none of the modules that handle
//! requests, so the server, the token endpoint, `$batch` and the Web API all depend on it and
//! not on each other.
//!
//! A `std::sync::Mutex`, because nothing awaits while it is held; one lock makes a `$batch`
//! (and its change sets) atomic with respect to other requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::codec::Prng;
use crate::faults::FaultState;
use crate::limits::Window;
use crate::options::SimOptions;
use crate::stats::{LoggedRequest, Stats};
use crate::store::Store;

/// Everything the simulator knows; guarded by one mutex.
pub(crate) struct State {
    pub base_url: String,
    /// Credentials, page size and limits. Its `faults` field is only the starting value:
    /// the live switches are in [`State::faults`].
    pub options: SimOptions,
    pub faults: FaultState,
    pub window: Window,
    pub store: Store,
    pub stats: Stats,
    pub tokens: HashMap<String, Instant>,
    pub rng: Prng,
    /// Read privileges taken away, by entity set (or `EntityDefinitions`): set → privilege name.
    pub denied: HashMap<String, String>,
    /// Every Web API request, in arrival order.
    pub log: Vec<LoggedRequest>,
}

/// The state as every request handler holds it.
pub(crate) type Shared = Arc<Mutex<State>>;

impl State {
    pub fn shared(base_url: String, options: SimOptions, store: Store) -> Shared {
        Arc::new(Mutex::new(State {
            base_url,
            faults: FaultState::new(options.faults.clone()),
            options,
            window: Window::default(),
            store,
            stats: Stats::default(),
            tokens: HashMap::new(),
            rng: Prng::from_clock(),
            denied: HashMap::new(),
            log: Vec::new(),
        }))
    }
}

/// Poisoning only means another request panicked mid-update; the data is still usable for a
/// test tool, and refusing every later request would hide the first failure.
pub(crate) fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
