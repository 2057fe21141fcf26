//! `POST $batch`: a `multipart/mixed` body of `application/http` parts, optionally grouped
//! in change sets (nested `multipart/mixed`), per "Execute batch operations using the Web
//! API". Operations run in order through [`webapi::dispatch`]; a change set is atomic (the
//! store's journal puts back every row it touched when one of its operations fails, and the
//! operations after the failure do not run). Without `Prefer: odata.continue-on-error`
//! processing stops at the first failure and the batch answers with that failure's status.

use crate::reply::{bad_query, codes, dataverse_error, Reply};
use crate::request::{Headers, API_PREFIX};
use crate::state::State;
use crate::webapi;

/// Dataverse's limit on operations in one batch.
const MAX_OPERATIONS: usize = 1000;

/// One HTTP request carried in a part.
struct Operation {
    method: String,
    target: String,
    headers: Headers,
    body: String,
    content_id: Option<String>,
}

/// A top-level item of the batch.
enum Item {
    Single(Operation),
    ChangeSet(Vec<Operation>),
}

/// The boundary parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    let (media, params) = content_type.split_once(';')?;
    if !media.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// Splits a multipart body into its parts' raw text. Accepts CRLF or LF line endings.
fn split_parts(body: &str, boundary: &str) -> Result<Vec<String>, String> {
    let delimiter = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<String> = None;
    for line in body.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == close {
            if let Some(part) = current.take() {
                parts.push(trim_line_end(part));
            }
            return Ok(parts);
        }
        if bare == delimiter {
            if let Some(part) = current.take() {
                parts.push(trim_line_end(part));
            }
            current = Some(String::new());
        } else if let Some(part) = current.as_mut() {
            part.push_str(line);
        }
    }
    Err(format!(
        "The multipart body ended without the closing delimiter '--{boundary}--'."
    ))
}

/// The line break before a delimiter belongs to the delimiter, not to the part.
fn trim_line_end(mut part: String) -> String {
    if part.ends_with('\n') {
        part.pop();
        if part.ends_with('\r') {
            part.pop();
        }
    }
    part
}

/// Splits text into header lines and the rest at the first empty line.
fn split_head(text: &str) -> (Vec<(String, String)>, String) {
    let mut headers = Vec::new();
    let mut rest = String::new();
    let mut in_body = false;
    for line in text.split_inclusive('\n') {
        if in_body {
            rest.push_str(line);
            continue;
        }
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.is_empty() {
            in_body = true;
        } else if let Some((name, value)) = bare.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        } else {
            headers.push((bare.to_string(), String::new()));
        }
    }
    (headers, rest)
}

/// Parses one `application/http` part into an operation.
fn parse_operation(part: &str) -> Result<Operation, String> {
    let (mime_headers, http) = split_head(part);
    let mime = Headers(mime_headers);
    let content_type = mime.get("Content-Type").unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/http")
    {
        return Err(format!(
            "A batch part must have Content-Type application/http, found '{content_type}'."
        ));
    }
    let http = http.trim_start_matches(['\r', '\n']);
    let (request_line, after) = http.split_once('\n').unwrap_or((http, ""));
    let mut words = request_line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!(
            "The request line '{}' is not valid.",
            request_line.trim()
        ));
    };
    let (headers, body) = split_head(after);
    Ok(Operation {
        method: method.to_ascii_uppercase(),
        target: url.to_string(),
        headers: Headers(headers),
        body: body.trim_end().to_string(),
        content_id: mime.get("Content-ID").map(str::to_string),
    })
}

fn parse_items(body: &str, boundary: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for part in split_parts(body, boundary)? {
        let (headers, rest) = split_head(&part);
        let headers = Headers(headers);
        let content_type = headers.get("Content-Type").unwrap_or_default();
        match self::boundary(content_type) {
            Some(inner) => {
                let operations = split_parts(&rest, &inner)?
                    .iter()
                    .map(|p| parse_operation(p))
                    .collect::<Result<Vec<_>, _>>()?;
                items.push(Item::ChangeSet(operations));
            }
            None => items.push(Item::Single(parse_operation(&part)?)),
        }
    }
    Ok(items)
}

/// Maps a part's URL (relative, `/api/data/v9.2/...`, or absolute) to a Web API target.
fn relative_target(url: &str) -> Option<&str> {
    if let Some(index) = url.find(API_PREFIX) {
        return Some(&url[index + API_PREFIX.len()..]);
    }
    if url.starts_with('/') || url.contains("://") {
        return None;
    }
    Some(url)
}

fn run(state: &mut State, operation: &Operation) -> Reply {
    state.stats.batch_operations += 1;
    let reply = dispatch(state, operation);
    // Microsoft's batch examples answer a create inside a batch with `Location` beside
    // `OData-EntityId`; the top-level create example shows `OData-EntityId` alone.
    match (operation.method.as_str(), reply.status) {
        ("POST", 204) => match reply.header("OData-EntityId").map(str::to_string) {
            Some(entity_id) => reply.with_header("Location", entity_id),
            None => reply,
        },
        _ => reply,
    }
}

fn dispatch(state: &mut State, operation: &Operation) -> Reply {
    match relative_target(&operation.target) {
        Some(target) => webapi::dispatch(
            state,
            &operation.method,
            target,
            &operation.headers,
            operation.body.as_bytes(),
        ),
        None => dataverse_error(
            404,
            codes::RESOURCE_NOT_FOUND,
            format!(
                "No HTTP resource was found that matches the request URI '{}'.",
                operation.target
            ),
        ),
    }
}

/// Writes one response part.
fn write_part(out: &mut String, boundary: &str, reply: &Reply, content_id: Option<&str>) {
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    ));
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let reason = hyper::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    out.push_str(&format!("\r\nHTTP/1.1 {} {reason}\r\n", reply.status));
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&String::from_utf8_lossy(&reply.body));
    out.push_str("\r\n");
}

/// The batch's items, or the 400 for a body that is not a batch Dataverse would run.
fn parse_request(headers: &Headers, body: &[u8]) -> Result<Vec<Item>, Reply> {
    let Some(batch_boundary) = headers.get("Content-Type").and_then(boundary) else {
        return Err(bad_query(
            "A $batch request must have Content-Type multipart/mixed with a boundary.",
        ));
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(bad_query("The $batch body is not valid UTF-8."));
    };
    let items = match parse_items(text, &batch_boundary) {
        Ok(items) => items,
        Err(message) => return Err(bad_query(message)),
    };
    let count: usize = items
        .iter()
        .map(|i| match i {
            Item::Single(_) => 1,
            Item::ChangeSet(ops) => ops.len(),
        })
        .sum();
    if count > MAX_OPERATIONS {
        return Err(bad_query(format!(
            "The number of requests in the batch is {count}, which exceeds the limit of {MAX_OPERATIONS}."
        )));
    }
    Ok(items)
}

/// Handles a `$batch` request body; the caller has already authorised and counted it.
pub(crate) fn handle(state: &mut State, headers: &Headers, body: &[u8]) -> Reply {
    let items = match parse_request(headers, body) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    let continue_on_error = headers.prefers("odata.continue-on-error").is_some();

    let response_boundary = format!("batchresponse_{}", state.rng.guid());
    let mut out = String::new();
    let mut stopped_by = None;
    for item in &items {
        let failed = match item {
            // Microsoft's page shows Content-ID echoed only in change-set responses; a part
            // outside one gets none back, whatever it sent.
            Item::Single(operation) => {
                let reply = run(state, operation);
                write_part(&mut out, &response_boundary, &reply, None);
                reply.is_error().then_some(reply.status)
            }
            Item::ChangeSet(operations) => {
                run_change_set(state, operations, &mut out, &response_boundary)
            }
        };
        if failed.is_some() && !continue_on_error {
            stopped_by = failed;
            break;
        }
    }
    out.push_str(&format!("--{response_boundary}--\r\n"));
    // "The batch error represents the error of the first failing request": without
    // continue-on-error Microsoft's example answers the whole batch `400 BadRequest`.
    let mut reply = Reply {
        status: stopped_by.unwrap_or(200),
        headers: vec![
            (
                "Content-Type".into(),
                format!("multipart/mixed; boundary={response_boundary}"),
            ),
            ("OData-Version".into(), "4.0".into()),
        ],
        body: out.into_bytes(),
    };
    if continue_on_error {
        reply = reply.with_header("Preference-Applied", "odata.continue-on-error");
    }
    reply
}

/// Runs a change set atomically, in order. On the first failure the rest does not run,
/// every row the earlier operations changed (PATCH, POST or action alike) is put back, and
/// only the failing operation's answer is written, as a single part in place of the change
/// set (OData 4.0, 11.7.4: "a single response message for the entire change set"), with that
/// operation's Content-ID. Returns the failure's status, `None` when the set succeeded.
fn run_change_set(
    state: &mut State,
    operations: &[Operation],
    out: &mut String,
    boundary: &str,
) -> Option<u16> {
    state.store.begin_change_set();
    let mut replies = Vec::new();
    for operation in operations {
        let reply = if operation.method == "GET" {
            bad_query("A change set cannot contain GET requests.")
        } else {
            run(state, operation)
        };
        if reply.is_error() {
            state.store.roll_back_change_set();
            write_part(out, boundary, &reply, operation.content_id.as_deref());
            return Some(reply.status);
        }
        replies.push((reply, operation.content_id.clone()));
    }
    state.store.commit_change_set();
    let change_set = format!("changesetresponse_{}", state.rng.guid());
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: multipart/mixed; boundary={change_set}\r\n\r\n"
    ));
    for (reply, content_id) in &replies {
        write_part(out, &change_set, reply, content_id.as_deref());
    }
    out.push_str(&format!("--{change_set}--\r\n"));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_with_lf_line_endings_too() {
        let body = "--b\nContent-Type: application/http\n\nPATCH x(1) HTTP/1.1\nIf-Match: W/\"1\"\n\n{}\n--b--\n";
        let items = parse_items(body, "b").unwrap();
        match &items[0] {
            Item::Single(op) => {
                assert_eq!((op.method.as_str(), op.target.as_str()), ("PATCH", "x(1)"));
                assert_eq!(op.headers.get("if-match"), Some("W/\"1\""));
                assert_eq!(op.body, "{}");
            }
            Item::ChangeSet(_) => panic!("expected a single operation"),
        }
    }

    #[test]
    fn a_body_without_the_closing_delimiter_is_rejected() {
        assert!(parse_items(
            "--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n",
            "b"
        )
        .is_err());
    }

    #[test]
    fn absolute_and_rooted_urls_map_to_the_same_target() {
        assert_eq!(
            relative_target("http://127.0.0.1:1/api/data/v9.2/x(1)"),
            Some("x(1)")
        );
        assert_eq!(relative_target("/api/data/v9.2/x(1)"), Some("x(1)"));
        assert_eq!(relative_target("x(1)"), Some("x(1)"));
    }
}
