//! [`SendsMessage`]: what calling one of an org's custom APIs does in the simulator. Dataverse
//! runs a custom API's plug-in; the sim has none, so a dataset says what the plug-in does: the
//! messaging actions of the demo org create an outgoing message row for a session, which is
//! how a test reads what was "sent".

use serde_json::{Map, Value};

/// A custom API whose plug-in creates one message row for a session.
#[derive(Clone, Debug)]
pub struct SendsMessage {
    /// Entity set of the message rows, e.g. `w4d_whatsappmessages`.
    pub message_set: String,
    /// Entity set of the sessions, e.g. `w4d_chatsessions`.
    pub session_set: String,
    /// The message table's single-valued navigation property to the session.
    pub session_navigation: String,
    /// The message column that receives the text.
    pub text_column: String,
    /// The request parameter that carries the text, e.g. `Text`.
    pub text_parameter: String,
    /// The request parameter that names the session (an unbound API); `None` for an API bound
    /// to the session table, whose session is the row the call is bound to.
    pub session_parameter: Option<String>,
    /// Other columns of every row the API creates, such as the outgoing direction.
    pub fixed: Map<String, Value>,
}
