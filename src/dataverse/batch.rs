//! The `$batch` wire format (OData 4.0 multipart/mixed) for changing sessions: each session's
//! change in a change set of its own, so that each stands alone and reports its own status.
//! A change set is the session's PATCH, and the message that must go with it (a message row's
//! POST or an action call) after it: Dataverse runs a change set in order and all or nothing,
//! so a 412 on the PATCH sends no message, and a refused message leaves the session as it was.
//! Every operation carries a `Content-ID` unique in the batch, which Dataverse echoes in
//! change-set answers ("Execute batch operations using the Web API"). Answers are matched on
//! that id, never on their position alone: a part missing, doubled or unaccounted for leaves
//! the outcome unknown.

use super::wire::ErrorBody;
use crate::ids::Guid;
use std::fmt::Write;

/// One close to send: a conditional PATCH of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    /// The session's primary key.
    pub id: Guid,
    /// The ETag the session had when it was judged.
    pub etag: String,
}

/// What Dataverse did with one close (or one change set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseOutcome {
    /// 204: the session is closed (every operation of its change set succeeded).
    Closed,
    /// 412: the row changed since it was read (for instance a new customer message).
    Changed,
    /// 404: the row no longer exists.
    Gone,
    /// No answer that can be told to be this operation's: missing, doubled, or an answer
    /// whose parts do not add up. Dataverse may have carried it out.
    Unknown {
        /// Why the answer could not be matched to the operation.
        reason: String,
    },
    /// Anything else, with Dataverse's message.
    Failed {
        /// HTTP status of the operation, 0 when Dataverse sent no response for it.
        status: u16,
        /// Dataverse's message.
        message: String,
    },
}

/// One request of a change set: a method, a path under the Web API root, the ETag it is
/// conditional on, and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `PATCH` or `POST`.
    pub method: &'static str,
    /// The path under the Web API root, such as `w4d_chatsessions(<id>)`.
    pub path: String,
    /// The `If-Match` ETag, when the request is conditional.
    pub if_match: Option<String>,
    /// The JSON body.
    pub body: String,
}

/// The body of a `$batch` request that PATCHes each session at `{api_path}{table}({id})`, the
/// n-th (from 1) in its own change set with `Content-ID: n`.
pub fn encode(
    boundary: &str,
    api_path: &str,
    table: &str,
    body: &str,
    closes: &[CloseRequest],
) -> String {
    let change_sets: Vec<Vec<Operation>> = closes
        .iter()
        .map(|close| {
            vec![Operation {
                method: "PATCH",
                path: format!("{table}({})", close.id),
                if_match: Some(close.etag.clone()),
                body: body.to_owned(),
            }]
        })
        .collect();
    encode_change_sets(boundary, api_path, &change_sets)
}

/// The body of a `$batch` request with each of `change_sets` in a change set of its own, its
/// operations in order, every operation with a `Content-ID` unique in the batch (numbered
/// from 1 across the whole batch), so that each answer can be told to be its own.
pub fn encode_change_sets(
    boundary: &str,
    api_path: &str,
    change_sets: &[Vec<Operation>],
) -> String {
    let size: usize = change_sets
        .iter()
        .flatten()
        .map(|operation| 450 + operation.body.len())
        .sum();
    let mut out = String::with_capacity(size);
    let mut content_id = 0;
    for (index, operations) in change_sets.iter().enumerate() {
        let change_set = format!("changeset_{boundary}_{}", index + 1);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "--{boundary}\r\n\
             Content-Type: multipart/mixed; boundary={change_set}\r\n\
             \r\n"
        );
        for operation in operations {
            content_id += 1;
            let _ = write!(
                out,
                "--{change_set}\r\n\
                 Content-Type: application/http\r\n\
                 Content-Transfer-Encoding: binary\r\n\
                 Content-ID: {content_id}\r\n\
                 \r\n\
                 {method} {api_path}{path} HTTP/1.1\r\n\
                 Content-Type: application/json\r\n\
                 Content-Length: {length}\r\n",
                method = operation.method,
                path = operation.path,
                length = operation.body.len(),
            );
            if let Some(etag) = &operation.if_match {
                let _ = write!(out, "If-Match: {etag}\r\n");
            }
            let _ = write!(out, "\r\n{}\r\n", operation.body);
        }
        let _ = write!(out, "--{change_set}--\r\n");
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

/// One operation's answer as read, with the `Content-ID` its part carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The part's `Content-ID`.
    pub content_id: Option<String>,
    /// Which part of the batch's answer it came in (from 0): the parts of one change set's
    /// answer share it.
    pub part: usize,
    /// What the operation's status says.
    pub outcome: CloseOutcome,
}

/// One outcome per single-operation change set of `sent`, in request order: see
/// [`match_change_sets`].
pub fn match_answers(sent: usize, answers: Vec<Answered>) -> Vec<CloseOutcome> {
    match_change_sets(&vec![1; sent], answers)
}

/// One outcome per change set, in request order, from the `answers` read; `sizes` holds how
/// many operations each change set has. An answer is placed by its `Content-ID`; one without
/// any is placed by the part it came in, and only when the answer has exactly one part per
/// change set. A change set is `Closed` (carried out) when each of its operations answered a
/// success once; when one failed, Dataverse rolled back the rest and answered the failing one
/// alone ("Execute batch operations using the Web API"), so a single failure is that change
/// set's outcome. Any other mix (no answer, doubled, too few) leaves it unknown.
pub fn match_change_sets(sizes: &[usize], answers: Vec<Answered>) -> Vec<CloseOutcome> {
    let mut first_ids = Vec::with_capacity(sizes.len());
    let mut next = 1;
    for size in sizes {
        first_ids.push(next);
        next += size;
    }
    let locate = |id: usize| -> Option<(usize, usize)> {
        let set = first_ids.iter().rposition(|first| *first <= id)?;
        let op = id - first_ids[set];
        (op < sizes[set]).then_some((set, op))
    };
    let parts: std::collections::BTreeSet<usize> = answers.iter().map(|a| a.part).collect();
    let by_part = parts.len() == sizes.len();
    let part_index: Vec<usize> = parts.into_iter().collect();
    let mut matched: Vec<Vec<(Option<usize>, CloseOutcome)>> = vec![Vec::new(); sizes.len()];
    for answer in answers {
        let slot = match answer.content_id.as_deref() {
            Some(id) => id
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(locate)
                .map(|(set, op)| (set, Some(op))),
            None if by_part => part_index
                .binary_search(&answer.part)
                .ok()
                .map(|set| (set, None)),
            None => None,
        };
        if let Some((set, op)) = slot {
            matched[set].push((op, answer.outcome));
        }
    }
    matched
        .into_iter()
        .zip(sizes)
        .map(|(answers, size)| settle(answers, *size))
        .collect()
}

/// The outcome of one change set of `size` operations from the answers placed in it.
fn settle(mut answers: Vec<(Option<usize>, CloseOutcome)>, size: usize) -> CloseOutcome {
    let unknown = |reason: String| CloseOutcome::Unknown { reason };
    let all_succeeded = answers
        .iter()
        .all(|(_, outcome)| *outcome == CloseOutcome::Closed);
    let mut ops: Vec<usize> = answers.iter().filter_map(|(op, _)| *op).collect();
    ops.sort_unstable();
    ops.dedup();
    let distinct = ops.len() == answers.iter().filter(|(op, _)| op.is_some()).count();
    match answers.len() {
        0 => unknown("Dataverse sent no answer with this operation's Content-ID".into()),
        n if n == size && all_succeeded && distinct => CloseOutcome::Closed,
        1 if !all_succeeded => match answers.remove(0) {
            // The session's PATCH (the first operation) failing is the change's own outcome;
            // a later one failing is the message's, reported with the status it answered.
            (Some(op), outcome) if op > 0 => failed_message(outcome),
            (_, outcome) => outcome,
        },
        1 if size > 1 => unknown(
            "Dataverse answered one operation of this change set as done and none of the others"
                .into(),
        ),
        n if n > size || !distinct => unknown(format!(
            "Dataverse sent {n} answers with this operation's Content-ID"
        )),
        n => unknown(format!(
            "Dataverse answered {n} of the {size} operations of this change set"
        )),
    }
}

/// A failed message (row or action call) of a change set: the change it came with was rolled
/// back with it.
fn failed_message(outcome: CloseOutcome) -> CloseOutcome {
    let (status, message) = match outcome {
        CloseOutcome::Failed { status, message } => (status, message),
        CloseOutcome::Changed => (412, "Precondition Failed".to_owned()),
        CloseOutcome::Gone => (404, "Not Found".to_owned()),
        other => return other,
    };
    CloseOutcome::Failed {
        status,
        message: format!("the message was refused, so nothing of this change was made: {message}"),
    }
}

/// Reads the multipart response into one answer per part, in the order sent back. A
/// change-set response (nested multipart) is flattened, its answers sharing its part.
pub fn decode(content_type: &str, body: &str) -> Result<Vec<Answered>, String> {
    decode_parts(content_type, body, None)
}

fn decode_parts(
    content_type: &str,
    body: &str,
    outer: Option<usize>,
) -> Result<Vec<Answered>, String> {
    let boundary = response_boundary(content_type)?;
    let mut answers = Vec::new();
    for (index, part) in parts(body, &boundary).into_iter().enumerate() {
        let (headers, content) = split_head(part);
        let part_index = outer.unwrap_or(index);
        if let Some(nested) = header(headers, "content-type")
            .filter(|value| value.to_ascii_lowercase().starts_with("multipart/mixed"))
        {
            answers.extend(decode_parts(nested, content, Some(part_index))?);
            continue;
        }
        answers.push(Answered {
            content_id: header(headers, "content-id").map(str::to_owned),
            part: part_index,
            outcome: outcome_of(content)?,
        });
    }
    Ok(answers)
}

/// The status, the status line and the body of one part's HTTP response.
fn response_of(http: &str) -> Result<(u16, &str, &str), String> {
    let (head, body) = split_head(http);
    let status_line = head.lines().next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .filter(|code| (100..=599).contains(code))
        .ok_or_else(|| format!("a $batch part has no HTTP status line ({status_line:?})"))?;
    Ok((status, status_line, body))
}

fn outcome_of(http: &str) -> Result<CloseOutcome, String> {
    let (status, status_line, body) = response_of(http)?;
    Ok(match status {
        200..=299 => CloseOutcome::Closed,
        412 => CloseOutcome::Changed,
        404 => CloseOutcome::Gone,
        _ => CloseOutcome::Failed {
            status,
            message: serde_json::from_str::<ErrorBody>(body.trim())
                .map(|error| format!("{}: {}", error.error.code, error.error.message))
                .unwrap_or_else(|_| status_line.trim().to_owned()),
        },
    })
}

/// The body of a `$batch` request of GETs, each URL (of the environment's Web API) a part of
/// its own, outside any change set: reads cannot be in one, and Dataverse answers them in the
/// order sent ("Execute batch operations using the Web API").
pub fn encode_reads(boundary: &str, urls: &[reqwest::Url]) -> String {
    let mut out = String::with_capacity(urls.len() * 400);
    for url in urls {
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "--{boundary}\r\n\
             Content-Type: application/http\r\n\
             Content-Transfer-Encoding: binary\r\n\
             \r\n\
             GET {target} HTTP/1.1\r\n\
             Accept: application/json\r\n\
             \r\n"
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

/// One read's answer in a `$batch`: its HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAnswer {
    /// The HTTP status of the read.
    pub status: u16,
    /// Its body (a page of rows, or Dataverse's error).
    pub body: String,
}

/// The answers to a `$batch` of reads, one per part, in the order sent back. A change set
/// among them is not the answer to a read.
pub fn decode_reads(content_type: &str, body: &str) -> Result<Vec<ReadAnswer>, String> {
    let boundary = response_boundary(content_type)?;
    parts(body, &boundary)
        .into_iter()
        .map(|part| {
            let (headers, content) = split_head(part);
            if header(headers, "content-type")
                .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/mixed"))
            {
                return Err("the answer to a batch of reads holds a change set".to_owned());
            }
            let (status, _, body) = response_of(content)?;
            Ok(ReadAnswer {
                status,
                body: body.trim_end_matches(['\r', '\n']).to_owned(),
            })
        })
        .collect()
}

/// The boundary of a `$batch` response, or why it has none.
fn response_boundary(content_type: &str) -> Result<String, String> {
    boundary_of(content_type)
        .ok_or_else(|| format!("the $batch response has no multipart boundary ({content_type:?})"))
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|parameter| {
        let (name, value) = parameter.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The parts between `--boundary` delimiters, without the delimiter lines.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut sections = body.split(delimiter.as_str());
    sections.next(); // the preamble
    for section in sections {
        if section.starts_with("--") {
            break;
        }
        let section = section
            .strip_prefix("\r\n")
            .or_else(|| section.strip_prefix('\n'))
            .unwrap_or(section);
        parts.push(section);
    }
    parts
}

/// Splits headers from content at the first empty line (CRLF or LF).
fn split_head(text: &str) -> (&str, &str) {
    let crlf = text.find("\r\n\r\n").map(|at| (at, 4));
    let lf = text.find("\n\n").map(|at| (at, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => {
            let (at, len) = if a.0 <= b.0 { a } else { b };
            (&text[..at], &text[at + len..])
        }
        (Some((at, len)), None) | (None, Some((at, len))) => (&text[..at], &text[at + len..]),
        (None, None) => (text, ""),
    }
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[cfg(test)]
mod tests;
