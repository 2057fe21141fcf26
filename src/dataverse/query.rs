//! The OData text this function sends: `$filter` expressions built from typed values, the
//! query URLs around them, and the PATCH body of a close. Only names checked by `settings`
//! and GUIDs checked by [`Guid::parse`] are placed in a query, so nothing needs escaping
//! beyond URL encoding.

use super::DataverseError;
use crate::ids::Guid;
use crate::settings::Schema;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use reqwest::Url;

/// The text written to the optional close-reason column.
pub const CLOSE_REASON: &str = "Closed by session timeout";

/// Whose sessions a query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The sessions of this configuration.
    Configuration(Guid),
    /// The sessions whose configuration lookup is empty or none of these configurations
    /// (with an empty list, every session). Given the other active configurations, it is one
    /// configuration's sessions together with those that have no active configuration;
    /// given every active configuration, it is only the latter.
    NoneOf(Vec<Guid>),
}

/// "The active sessions of `owner` whose last activity is at or before `cutoff`": the
/// customer's last message, or creation when the customer never wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionQuery {
    /// Whose sessions.
    pub owner: Owner,
    /// The latest last activity that is past the timeout.
    pub cutoff: DateTime<Utc>,
}

impl SessionQuery {
    /// The `$filter` expression.
    pub fn filter(&self, schema: &Schema) -> String {
        all_of([
            Some("statecode eq 0".to_owned()),
            self.owner.filter(schema),
            Some(past(schema, self.cutoff)),
        ])
    }
}

impl Owner {
    /// The `$filter` term that selects this owner's sessions; `None` when that is every
    /// session.
    fn filter(&self, schema: &Schema) -> Option<String> {
        let lookup = &schema.configuration_lookup;
        match self {
            Owner::Configuration(id) => Some(format!("{lookup} eq {id}")),
            Owner::NoneOf(ids) if ids.is_empty() => None,
            Owner::NoneOf(ids) => {
                // `eq null` is spelled out rather than left to how `ne` treats an empty
                // lookup, so the filter means the same whatever that treatment is.
                let others = ids
                    .iter()
                    .map(|id| format!("{lookup} ne {id}"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                Some(format!("({lookup} eq null or ({others}))"))
            }
        }
    }
}

/// The terms that are present, joined with `and`.
fn all_of<const N: usize>(terms: [Option<String>; N]) -> String {
    terms
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

/// "The active sessions of `owner` whose last activity is after `after` and at or before
/// `until`": with `after` a sweep's cutoff and `until` that cutoff plus the warning's lead,
/// the sessions that become eligible within the lead, the ones a warning is for. Whether the
/// customer was warned already is judged on the row, not in the filter: it compares two
/// columns, which the close query never needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningQuery {
    /// Whose sessions.
    pub owner: Owner,
    /// The sweep's cutoff: rows at or before it are the close query's.
    pub after: DateTime<Utc>,
    /// The latest last activity whose eligibility falls within the lead.
    pub until: DateTime<Utc>,
}

impl WarningQuery {
    /// The `$filter` expression.
    pub fn filter(&self, schema: &Schema) -> String {
        let after = self.after.to_rfc3339_opts(SecondsFormat::Secs, true);
        let until = self.until.to_rfc3339_opts(SecondsFormat::Secs, true);
        let last = &schema.last_customer_message;
        all_of([
            Some("statecode eq 0".to_owned()),
            self.owner.filter(schema),
            Some(format!(
                "(({last} gt {after} and {last} le {until}) or \
                 ({last} eq null and createdon gt {after} and createdon le {until}))"
            )),
        ])
    }
}

/// Which time a session is judged from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The customer's last message.
    LastCustomerMessage,
    /// `createdon`, for a session whose customer never wrote.
    Created,
}

/// "The active session of `owner`, judged from `basis`, that is not yet past `cutoff` and
/// will be the first to be": the complement of a [`SessionQuery`], ordered by that time and
/// limited to one row, so the next eligibility costs one small request, not a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingQuery {
    /// Whose sessions.
    pub owner: Owner,
    /// The cutoff of the sweep: rows at or before it were the sweep's to judge.
    pub cutoff: DateTime<Utc>,
    /// Which time column the session is judged from.
    pub basis: Basis,
}

impl UpcomingQuery {
    /// The column the session's eligibility is counted from.
    pub fn time_column<'a>(&self, schema: &'a Schema) -> &'a str {
        match self.basis {
            Basis::LastCustomerMessage => schema.last_customer_message.as_str(),
            Basis::Created => "createdon",
        }
    }

    /// The `$filter` expression.
    pub fn filter(&self, schema: &Schema) -> String {
        let cutoff = self.cutoff.to_rfc3339_opts(SecondsFormat::Secs, true);
        let last = &schema.last_customer_message;
        let not_yet = match self.basis {
            Basis::LastCustomerMessage => format!("{last} gt {cutoff}"),
            Basis::Created => format!("{last} eq null and createdon gt {cutoff}"),
        };
        all_of([
            Some("statecode eq 0".to_owned()),
            self.owner.filter(schema),
            Some(not_yet),
        ])
    }

    /// The URL: only the time column, ascending, the first row.
    pub fn url(&self, root: &Url, schema: &Schema) -> Result<Url, DataverseError> {
        let column = self.time_column(schema);
        let mut url = query_url(
            root,
            schema.session_table.as_str(),
            column,
            &self.filter(schema),
        )?;
        let query = format!(
            "{}&$orderby={}&$top=1",
            url.query().unwrap_or_default(),
            encode_query(&format!("{column} asc"))
        );
        url.set_query(Some(&query));
        Ok(url)
    }
}

/// Last activity at or before `cutoff`.
fn past(schema: &Schema, cutoff: DateTime<Utc>) -> String {
    let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Secs, true);
    let last = &schema.last_customer_message;
    format!("({last} le {cutoff} or ({last} eq null and createdon le {cutoff}))")
}

/// The active configurations.
pub(crate) fn active_configurations_filter() -> &'static str {
    "statecode eq 0"
}

/// The rows among `ids`, for a state check.
pub(crate) fn any_of_filter(schema: &Schema, ids: &[Guid]) -> String {
    let key = schema.session_id.as_str();
    ids.iter()
        .map(|id| format!("{key} eq {id}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A change of a session's state: the PATCH a batch carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// Into the closed state, with the close reason when its column is configured.
    Close,
    /// Back into the active state, clearing the close reason when its column is configured.
    Reopen,
}

/// The body of the PATCH that makes `change`; a close records `at` in the end column.
pub(crate) fn change_body(schema: &Schema, change: SessionChange, at: DateTime<Utc>) -> String {
    let (statecode, statuscode, reason) = match change {
        SessionChange::Close => (
            schema.closed_statecode,
            schema.closed_statuscode,
            serde_json::Value::from(CLOSE_REASON),
        ),
        SessionChange::Reopen => (
            schema.active_statecode,
            schema.active_statuscode,
            serde_json::Value::Null,
        ),
    };
    let mut body = serde_json::Map::new();
    body.insert("statecode".into(), statecode.into());
    body.insert("statuscode".into(), statuscode.into());
    if let Some(column) = &schema.close_reason {
        body.insert(column.to_string(), reason);
    }
    if let Some(column) = &schema.session_end {
        let ended = match change {
            SessionChange::Close => at.to_rfc3339_opts(SecondsFormat::Secs, true).into(),
            SessionChange::Reopen => serde_json::Value::Null,
        };
        body.insert(column.to_string(), ended);
    }
    serde_json::Value::Object(body).to_string()
}

/// The body of the PATCH that records a warning given `at`.
pub(crate) fn warned_body(column: &crate::settings::Name, at: DateTime<Utc>) -> String {
    let mut body = serde_json::Map::new();
    body.insert(
        column.to_string(),
        at.to_rfc3339_opts(SecondsFormat::Secs, true).into(),
    );
    serde_json::Value::Object(body).to_string()
}

/// "The sessions in the closed state that `user` changed last, at or after `since`": what a
/// sweep run by `user` closed since then and nobody has touched after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopenQuery {
    /// The application user this function runs as (from `WhoAmI`).
    pub user: Guid,
    /// The earliest close to undo.
    pub since: DateTime<Utc>,
}

impl ReopenQuery {
    /// Whether `row` is one [`Self::filter`] asks for: closed, last changed by this user at or
    /// after `since` (to the second, as the filter says), and, when the close reason column is
    /// set, closed with this function's reason. A row without these columns is not.
    pub fn asked_for(&self, schema: &Schema, row: &super::SessionRow) -> bool {
        let since = self.since.trunc_subsecs(0);
        let Some(change) = &row.last_change else {
            return false;
        };
        row.statecode == schema.closed_statecode
            && change.by.as_ref() == Some(&self.user)
            && change.on.is_some_and(|on| on >= since)
            && (schema.close_reason.is_none()
                || change.close_reason.as_deref() == Some(CLOSE_REASON))
    }

    /// The `$filter` expression. `modifiedon` is kept to the second Dataverse stores.
    pub fn filter(&self, schema: &Schema) -> String {
        let since = self.since.to_rfc3339_opts(SecondsFormat::Secs, true);
        format!(
            "statecode eq {} and _modifiedby_value eq {} and modifiedon ge {since}",
            schema.closed_statecode, self.user
        )
    }
}

/// `{root}{table}?$select=…&$filter=…`, with spaces encoded as `%20` as the Web API expects.
pub(crate) fn query_url(
    root: &Url,
    table: &str,
    select: &str,
    filter: &str,
) -> Result<Url, DataverseError> {
    let text = format!(
        "{root}{table}?$select={}&$filter={}",
        encode_query(select),
        encode_query(filter)
    );
    Url::parse(&text).map_err(|error| DataverseError::internal("query URL", error))
}

fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'('
            | b')'
            | b','
            | b'\''
            | b':' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
