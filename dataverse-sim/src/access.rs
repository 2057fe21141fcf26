//! Read privileges a test took away ([`crate::Sim::deny_privilege`]), answered as Dataverse
//! answers a principal that lacks them.

use crate::ids::APPLICATION_USER_ID;
use crate::reply::{codes, dataverse_error, Reply};
use crate::state::State;

/// The 403 Dataverse answers when the application user lacks the read privilege that
/// [`crate::Sim::deny_privilege`] took away for `set`.
pub(crate) fn denied(state: &State, set: &str) -> Option<Reply> {
    let privilege = state.denied.get(set)?;
    Some(dataverse_error(
        403,
        codes::PRIVILEGE_DENIED,
        format!("Principal user (Id={APPLICATION_USER_ID}, type=8, roleCount=1, privilegeCount=0, accessMode=4), is missing {privilege} privilege (Id=00000000-0000-0000-0000-000000000000) on OTC=0 for entity '{set}'."),
    ))
}
