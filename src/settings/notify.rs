//! Telling the customer: the warning before a close, the closing message, and the two ways a
//! message reaches WhatsApp from Dataverse (a row in a message table, or a Dataverse action).
//! They are read together, because each needs the others to make sense: a warning needs a
//! column to remember it by and a way to be sent, a message table needs its link to the
//! session and its text column.

use super::spec::Reader;
use super::{setting, Name, SettingsError};
use crate::ids::Guid;
use crate::policy::{SessionTimeout, TimeoutUnit};
use serde_json::{Map, Value};

/// WhatsApp's limit for the body of a text message.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// The placeholders a string of `MESSAGE_ACTION_PARAMETERS` may hold.
const PLACEHOLDERS: [&str; 3] = ["{session_id}", "{configuration_id}", "{text}"];

/// How the customer is told; everything off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifySettings {
    /// The warning before a close, when `WARNING_LEAD` is set.
    pub warning: Option<WarningSettings>,
    /// The closing message, sent in the same change set as the close.
    pub closing_text: Option<String>,
    /// A message is a new row of this table.
    pub message_table: Option<MessageTable>,
    /// A message is a call of this action.
    pub action: Option<MessageAction>,
}

/// The warning before a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningSettings {
    /// How long before eligibility the customer is warned.
    pub lead: SessionTimeout,
    /// The session's date-time column set to the moment of the warning.
    pub warned_at: Name,
    /// The warning's text; `None` when only the `Session Warned` event delivers it.
    pub text: Option<String>,
}

/// An outgoing message as a new row of a message table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTable {
    /// The message table's entity set.
    pub table: Name,
    /// The single-valued navigation property from a message to its session.
    pub session_navigation: Name,
    /// The column that holds the text.
    pub text_column: Name,
    /// The other columns an outgoing message row needs, with their values (JSON scalars).
    pub fixed_values: Vec<(Name, Value)>,
}

/// An outgoing message as a call of a Dataverse action (a custom API or custom process action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAction {
    /// The action's unique name.
    pub name: Name,
    /// Bound to the session table (called on the session), or unbound.
    pub bound: bool,
    /// The parameters, whose strings may hold the placeholders.
    pub parameters: Vec<(Name, Value)>,
}

impl NotifySettings {
    /// Whether any message is sent at all (a row or an action call).
    pub fn sends_messages(&self) -> bool {
        self.message_table.is_some() || self.action.is_some()
    }

    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        read: &Reader<F>,
        unit: TimeoutUnit,
        events_on: bool,
    ) -> Result<Self, SettingsError> {
        let message_table = read_message_table(read)?;
        let action = read_action(read)?;
        let delivers = message_table.is_some() || action.is_some();
        let warning_text = read_text(read, &setting::WARNING_MESSAGE_TEXT)?;
        let closing_text = read_text(read, &setting::CLOSING_MESSAGE_TEXT)?;
        let texts_reach_action = action.as_ref().is_none_or(MessageAction::takes_text);
        if (warning_text.is_some() || closing_text.is_some()) && !texts_reach_action {
            return Err(requires(
                &setting::MESSAGE_ACTION_PARAMETERS,
                "a string parameter holding {text}, or the message text never reaches the action",
            ));
        }
        if closing_text.is_some() && !delivers {
            return Err(requires(
                &setting::CLOSING_MESSAGE_TEXT,
                "MESSAGE_TABLE or MESSAGE_ACTION, the way a message is sent",
            ));
        }
        // Read even with warnings off, so a wrong name is found before it is needed.
        let warned_at = read.optional_name(&setting::SESSION_WARNED_AT_COLUMN)?;
        let warning = match read.optional_timeout(&setting::WARNING_LEAD, unit)? {
            Some(_) if !delivers && !events_on => {
                return Err(requires(
                    &setting::WARNING_LEAD,
                    "a way to reach the customer: MESSAGE_TABLE, MESSAGE_ACTION or EVENT_BUS_NAME (the Session Warned event)",
                ))
            }
            Some(lead) => Some(warning(lead, warned_at, warning_text, delivers)?),
            None if warning_text.is_some() => {
                return Err(requires(
                    &setting::WARNING_MESSAGE_TEXT,
                    "WARNING_LEAD, the time before the close at which it is sent",
                ))
            }
            None => None,
        };
        Ok(NotifySettings {
            warning,
            closing_text,
            message_table,
            action,
        })
    }
}

fn requires(spec: &super::Spec, what: &str) -> SettingsError {
    SettingsError::Requires {
        name: spec.name,
        requires: what.to_owned(),
    }
}

fn warning(
    lead: SessionTimeout,
    warned_at: Option<Name>,
    text: Option<String>,
    delivers: bool,
) -> Result<WarningSettings, SettingsError> {
    if lead.seconds() < 60 {
        return Err(SettingsError::BadValue {
            name: setting::WARNING_LEAD.name,
            value: format!("{} seconds", lead.seconds()),
            expected: "at least 1 minute".into(),
        });
    }
    let warned_at = warned_at.ok_or_else(|| {
        requires(
            &setting::WARNING_LEAD,
            "SESSION_WARNED_AT_COLUMN, the session's date-time column that records the warning",
        )
    })?;
    if delivers && text.is_none() {
        return Err(requires(
            &setting::WARNING_LEAD,
            "WARNING_MESSAGE_TEXT, the text MESSAGE_TABLE or MESSAGE_ACTION sends",
        ));
    }
    Ok(WarningSettings {
        lead,
        warned_at,
        text,
    })
}

fn read_text<F: Fn(&str) -> Option<String>>(
    read: &Reader<F>,
    spec: &super::Spec,
) -> Result<Option<String>, SettingsError> {
    let Some(text) = read.optional_text(spec) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(SettingsError::BadValue {
            name: spec.name,
            value: format!("{chars} characters"),
            expected: format!(
                "at most {MAX_MESSAGE_CHARS} characters, WhatsApp's limit for a text message"
            ),
        });
    }
    Ok(Some(text))
}

fn read_message_table<F: Fn(&str) -> Option<String>>(
    read: &Reader<F>,
) -> Result<Option<MessageTable>, SettingsError> {
    let navigation = read.optional_name(&setting::MESSAGE_SESSION_NAVIGATION)?;
    let text_column = read.optional_name(&setting::MESSAGE_TEXT_COLUMN)?;
    let fixed_values = read.json_object(&setting::MESSAGE_FIXED_VALUES)?;
    let Some(table) = read.optional_name(&setting::MESSAGE_TABLE)? else {
        for (spec, set) in [
            (&setting::MESSAGE_SESSION_NAVIGATION, navigation.is_some()),
            (&setting::MESSAGE_TEXT_COLUMN, text_column.is_some()),
            (&setting::MESSAGE_FIXED_VALUES, fixed_values.is_some()),
        ] {
            if set {
                return Err(requires(spec, "MESSAGE_TABLE, the table it belongs to"));
            }
        }
        return Ok(None);
    };
    let missing = |spec: &super::Spec| requires(&setting::MESSAGE_TABLE, spec.name);
    let session_navigation =
        navigation.ok_or_else(|| missing(&setting::MESSAGE_SESSION_NAVIGATION))?;
    let text_column = text_column.ok_or_else(|| missing(&setting::MESSAGE_TEXT_COLUMN))?;
    let fixed_values = fixed_values.unwrap_or_default();
    if let Some((name, _)) = fixed_values
        .iter()
        .find(|(name, _)| name.as_str().eq_ignore_ascii_case(text_column.as_str()))
    {
        return Err(SettingsError::BadValue {
            name: setting::MESSAGE_FIXED_VALUES.name,
            value: name.to_string(),
            expected: "not MESSAGE_TEXT_COLUMN, which holds the message's text".into(),
        });
    }
    Ok(Some(MessageTable {
        table,
        session_navigation,
        text_column,
        fixed_values,
    }))
}

fn read_action<F: Fn(&str) -> Option<String>>(
    read: &Reader<F>,
) -> Result<Option<MessageAction>, SettingsError> {
    let bound = read.flag(&setting::MESSAGE_ACTION_BOUND)?;
    let parameters = read.json_object(&setting::MESSAGE_ACTION_PARAMETERS)?;
    let Some(name) = read.optional_name(&setting::MESSAGE_ACTION)? else {
        if parameters.is_some() {
            return Err(requires(
                &setting::MESSAGE_ACTION_PARAMETERS,
                "MESSAGE_ACTION, the action they are passed to",
            ));
        }
        return Ok(None);
    };
    let parameters = parameters.unwrap_or_default();
    for (parameter, value) in &parameters {
        if let Some(unknown) = value.as_str().and_then(unknown_placeholder) {
            return Err(SettingsError::BadValue {
                name: setting::MESSAGE_ACTION_PARAMETERS.name,
                value: format!("{parameter}: {unknown}"),
                expected: format!("only the placeholders {}", PLACEHOLDERS.join(", ")),
            });
        }
    }
    Ok(Some(MessageAction {
        name,
        bound,
        parameters,
    }))
}

/// The first `{word}` of `text` that is not one of the placeholders: a typo such as
/// `{sessionid}` would otherwise be sent to the customer as it stands.
fn unknown_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let close = after.find('}')?;
        let candidate = &after[..=close];
        let word = &candidate[1..candidate.len() - 1];
        let looks_like_one =
            !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if looks_like_one && !PLACEHOLDERS.contains(&candidate) {
            return Some(candidate);
        }
        rest = &after[1..];
    }
    None
}

impl MessageAction {
    /// Whether some string parameter carries the message's text.
    fn takes_text(&self) -> bool {
        self.parameters
            .iter()
            .any(|(_, value)| value.as_str().is_some_and(|text| text.contains("{text}")))
    }

    /// The action's parameters for one message, placeholders replaced in a single pass, so
    /// that a text that itself contains `{session_id}` is sent as written.
    pub fn body(
        &self,
        session_id: &Guid,
        configuration_id: &Guid,
        text: &str,
    ) -> Map<String, Value> {
        let (session_id, configuration_id) = (session_id.to_string(), configuration_id.to_string());
        let values = [session_id.as_str(), configuration_id.as_str(), text];
        self.parameters
            .iter()
            .map(|(name, value)| {
                let value = match value.as_str() {
                    Some(template) => Value::String(substitute(template, &values)),
                    None => value.clone(),
                };
                (name.to_string(), value)
            })
            .collect()
    }
}

fn substitute(template: &str, values: &[&str; 3]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'scan: while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        for (placeholder, value) in PLACEHOLDERS.iter().zip(values) {
            if let Some(tail) = after.strip_prefix(placeholder) {
                out.push_str(value);
                rest = tail;
                continue 'scan;
            }
        }
        out.push('{');
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

impl MessageTable {
    /// The new message row for one message to `session_id`, linked to it through the
    /// navigation property (`<name>@odata.bind`).
    pub fn row(&self, session_table: &Name, session_id: &Guid, text: &str) -> Map<String, Value> {
        let mut row: Map<String, Value> = self
            .fixed_values
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        row.insert(self.text_column.to_string(), Value::String(text.to_owned()));
        row.insert(
            format!("{}@odata.bind", self.session_navigation),
            Value::String(format!("/{session_table}({session_id})")),
        );
        row
    }
}

#[cfg(test)]
mod tests;
