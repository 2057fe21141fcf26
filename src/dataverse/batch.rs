//! The `$batch` wire format (OData 4.0 multipart/mixed) for closing sessions: one PATCH per
//! session, each in a change set of its own, so that each operation stands alone and reports
//! its own status, and carries a `Content-ID` that Dataverse echoes in change-set answers
//! ("Execute batch operations using the Web API"). Answers are matched to sessions on that id,
//! never on their position alone: a part missing, doubled or unaccounted for leaves the
//! outcome unknown.

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

/// What Dataverse did with one close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseOutcome {
    /// 204: the session is closed.
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

/// The body of a `$batch` request that PATCHes each session at `{api_path}{table}({id})`, the
/// n-th (from 1) in its own change set with `Content-ID: n`.
pub fn encode(
    boundary: &str,
    api_path: &str,
    table: &str,
    body: &str,
    closes: &[CloseRequest],
) -> String {
    let mut out = String::with_capacity(closes.len() * (450 + body.len()));
    for (index, close) in closes.iter().enumerate() {
        let content_id = index + 1;
        let change_set = format!("changeset_{boundary}_{content_id}");
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "--{boundary}\r\n\
             Content-Type: multipart/mixed; boundary={change_set}\r\n\
             \r\n\
             --{change_set}\r\n\
             Content-Type: application/http\r\n\
             Content-Transfer-Encoding: binary\r\n\
             Content-ID: {content_id}\r\n\
             \r\n\
             PATCH {api_path}{table}({id}) HTTP/1.1\r\n\
             Content-Type: application/json\r\n\
             Content-Length: {length}\r\n\
             If-Match: {etag}\r\n\
             \r\n\
             {body}\r\n\
             --{change_set}--\r\n",
            id = close.id,
            length = body.len(),
            etag = close.etag,
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

/// One operation's answer as read, with the `Content-ID` its part carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The part's `Content-ID`.
    pub content_id: Option<String>,
    /// What the operation's status says.
    pub outcome: CloseOutcome,
}

/// One outcome per operation of `sent`, in request order, from the `answers` read. Answers
/// carrying a `Content-ID` are matched on it; an operation with no answer, or with two, is
/// unknown. An answer without any `Content-ID` at all (a server that echoes none) is read in
/// order only when it has exactly one part per operation; otherwise every operation is unknown.
pub fn match_answers(sent: usize, answers: Vec<Answered>) -> Vec<CloseOutcome> {
    let unknown = |reason: String| CloseOutcome::Unknown { reason };
    if answers.iter().all(|answer| answer.content_id.is_none()) {
        if answers.len() == sent {
            return answers.into_iter().map(|answer| answer.outcome).collect();
        }
        let reason = format!(
            "Dataverse answered {} operations for the {sent} sent, without Content-IDs to tell them apart",
            answers.len()
        );
        return vec![unknown(reason); sent];
    }
    let mut matched: Vec<Vec<CloseOutcome>> = vec![Vec::new(); sent];
    for answer in answers {
        let slot = answer
            .content_id
            .as_deref()
            .and_then(|id| id.trim().parse::<usize>().ok())
            .and_then(|id| id.checked_sub(1))
            .filter(|index| *index < sent);
        if let Some(index) = slot {
            matched[index].push(answer.outcome);
        }
    }
    matched
        .into_iter()
        .map(|mut answers| match answers.len() {
            1 => answers.remove(0),
            0 => unknown("Dataverse sent no answer with this operation's Content-ID".into()),
            n => unknown(format!(
                "Dataverse sent {n} answers with this operation's Content-ID"
            )),
        })
        .collect()
}

/// Reads the multipart response into one answer per part, in the order sent back. A
/// change-set response (nested multipart) is flattened.
pub fn decode(content_type: &str, body: &str) -> Result<Vec<Answered>, String> {
    let boundary = boundary_of(content_type).ok_or_else(|| {
        format!("the $batch response has no multipart boundary ({content_type:?})")
    })?;
    let mut answers = Vec::new();
    for part in parts(body, &boundary) {
        let (headers, content) = split_head(part);
        if let Some(nested) = header(headers, "content-type")
            .filter(|value| value.to_ascii_lowercase().starts_with("multipart/mixed"))
        {
            answers.extend(decode(nested, content)?);
            continue;
        }
        answers.push(Answered {
            content_id: header(headers, "content-id").map(str::to_owned),
            outcome: outcome_of(content)?,
        });
    }
    Ok(answers)
}

fn outcome_of(http: &str) -> Result<CloseOutcome, String> {
    let (head, body) = split_head(http);
    let status_line = head.lines().next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .filter(|code| (100..=599).contains(code))
        .ok_or_else(|| format!("a $batch part has no HTTP status line ({status_line:?})"))?;
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
