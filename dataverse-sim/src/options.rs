//! [`SimOptions`]: the credentials the token endpoint accepts, the page size, and the faults
//! and limits a simulator starts with.

use crate::faults::Faults;
use crate::limits::Limits;

/// How the simulator authenticates clients and shapes its answers.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The only application (client) id the token endpoint knows.
    pub client_id: String,
    /// The client secret that application must present.
    pub client_secret: String,
    /// Lifetime of issued access tokens, reported as `expires_in`.
    pub token_lifetime_secs: u64,
    /// Largest page a GET returns (Dataverse: 5000); `Prefer: odata.maxpagesize` is capped here.
    pub max_page_size: usize,
    /// Faults injected from the start.
    pub faults: Faults,
    /// Service protection limits, execution cost and `x-ms-dop-hint`.
    pub limits: Limits,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            client_id: "sim-client".to_string(),
            client_secret: "sim-secret".to_string(),
            token_lifetime_secs: 3599,
            max_page_size: 5000,
            faults: Faults::default(),
            limits: Limits::default(),
        }
    }
}
