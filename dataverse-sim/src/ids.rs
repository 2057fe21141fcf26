//! The fixed ids of the simulated org: the application user the token stands for, the
//! integration user behind every other change, and the business unit and organization.

/// The `systemuserid` of the application user behind the one client the token endpoint
/// knows: `WhoAmI` answers it, and every write through the Web API records it as the
/// row's `_modifiedby_value`.
pub const APPLICATION_USER_ID: &str = "a11ce5e0-0000-4000-8000-00000000a99e";

/// The `systemuserid` recorded for every other change: seeded rows (unless they say
/// otherwise), [`crate::Sim::update`] and the customer messages the fault injector simulates. It
/// stands for people and integrations, anyone but this function.
pub const INTEGRATION_USER_ID: &str = "1e7e9a70-0000-4000-8000-0000000001e7";

/// The business unit and organization `WhoAmI` reports.
pub const BUSINESS_UNIT_ID: &str = "b0000000-0000-4000-8000-0000000000b0";
/// See [`BUSINESS_UNIT_ID`].
pub const ORGANIZATION_ID: &str = "0a000000-0000-4000-8000-0000000000a0";
