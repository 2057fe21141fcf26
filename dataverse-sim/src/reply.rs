//! A transport-neutral response (status, headers, body) and the error bodies of the two
//! services. Web API operations return a [`Reply`] so the same code answers a top-level
//! request and an operation inside a `$batch` part.

use serde_json::{json, Value};

/// One HTTP answer before it is written to a connection or into a batch part.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Dataverse sends this on every JSON answer.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; odata.metadata=minimal";

impl Reply {
    /// A JSON answer with the OData headers Dataverse sends.
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type".into(), JSON_CONTENT_TYPE.into()),
                ("OData-Version".into(), "4.0".into()),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    /// A JSON answer whose text is already serialised.
    pub(crate) fn json_text(status: u16, text: String) -> Reply {
        let mut reply = Reply::json(status, &Value::Null);
        reply.body = text.into_bytes();
        reply
    }

    /// An empty answer such as 204 No Content.
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![("OData-Version".into(), "4.0".into())],
            body: Vec::new(),
        }
    }

    /// Adds a header, builder style.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The first value of a header, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True for 4xx and 5xx answers.
    pub(crate) fn is_error(&self) -> bool {
        self.status >= 400
    }
}

/// Dataverse's error shape: `{"error":{"code":"0x...","message":"..."}}`.
pub(crate) fn dataverse_error(status: u16, code: &str, message: impl Into<String>) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// Codes and messages taken from Microsoft's documentation (see README for sources).
pub(crate) mod codes {
    /// "Resource not found for the segment '<name>'." (404).
    pub const RESOURCE_NOT_FOUND: &str = "0x8006088a";
    /// "Could not find a property named ..." in a query option (400); the docs show `0x0`.
    pub const PROPERTY_NOT_FOUND: &str = "0x0";
    /// OData query or payload syntax errors (400).
    pub const QUERY_SYNTAX: &str = "0x80060888";
    /// "The version of the existing record doesn't match the RowVersion property provided." (412).
    pub const CONCURRENCY_VERSION_MISMATCH: &str = "0x80060882";
    /// "<entity> With Id = <id> Does Not Exist" (404).
    pub const OBJECT_DOES_NOT_EXIST: &str = "0x80040217";
    /// Service protection limit: number of requests (429).
    pub const THROTTLED_REQUESTS: &str = "0x80072322";
    /// Generic unexpected server error, used for the injected 503.
    pub const UNEXPECTED: &str = "0x80040216";
    /// "Principal user … is missing prv… privilege" (403).
    pub const PRIVILEGE_DENIED: &str = "0x80040220";
    /// "Error identified in Payload provided by the user for Entity …" (400).
    pub const BAD_PAYLOAD: &str = "0x80048d19";
    /// "A validation error occurred.  The length of the '…' attribute …" (400).
    pub const VALIDATION_LENGTH: &str = "0x80044331";
    /// `PicklistValueOutOfRange`: "The picklist value is out of the range." (400).
    pub const PICKLIST_OUT_OF_RANGE: &str = "0x8004431A";
    /// `InvalidArgument`, used for an action's missing parameter.
    pub const INVALID_ARGUMENT: &str = "0x80040203";
    /// `DuplicateRecord`: a create with the id of a row that exists.
    pub const DUPLICATE_RECORD: &str = "0x80040237";
}

/// 404 for an entity set (or other first segment) that does not exist.
pub(crate) fn resource_not_found(segment: &str) -> Reply {
    dataverse_error(
        404,
        codes::RESOURCE_NOT_FOUND,
        format!("Resource not found for the segment '{segment}'."),
    )
}

/// 400 for a column that the entity does not have, as a query option names it.
pub(crate) fn property_not_found(column: &str, entity: &str) -> Reply {
    dataverse_error(
        400,
        codes::PROPERTY_NOT_FOUND,
        format!(
            "Could not find a property named '{column}' on type 'Microsoft.Dynamics.CRM.{entity}'."
        ),
    )
}

/// 400 for a query option the sim cannot parse or does not support.
pub(crate) fn bad_query(message: impl Into<String>) -> Reply {
    dataverse_error(400, codes::QUERY_SYNTAX, message)
}

/// 404 for a row id that does not exist.
pub(crate) fn row_not_found(entity: &str, id: &str) -> Reply {
    dataverse_error(
        404,
        codes::OBJECT_DOES_NOT_EXIST,
        format!("{entity} With Id = {id} Does Not Exist"),
    )
}
