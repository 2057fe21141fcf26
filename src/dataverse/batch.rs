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
mod tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    fn outcomes(decoded: Result<Vec<Answered>, String>) -> Vec<CloseOutcome> {
        decoded.unwrap().into_iter().map(|a| a.outcome).collect()
    }

    fn answered(content_id: Option<&str>, outcome: CloseOutcome) -> Answered {
        Answered {
            content_id: content_id.map(str::to_owned),
            outcome,
        }
    }

    fn is_unknown(outcome: &CloseOutcome) -> bool {
        matches!(outcome, CloseOutcome::Unknown { .. })
    }

    #[test]
    fn answers_are_matched_on_their_content_id_whatever_their_order() {
        let answers = vec![
            answered(Some("3"), CloseOutcome::Gone),
            answered(Some("1"), CloseOutcome::Changed),
            answered(Some("2"), CloseOutcome::Closed),
        ];
        assert_eq!(
            match_answers(3, answers),
            vec![
                CloseOutcome::Changed,
                CloseOutcome::Closed,
                CloseOutcome::Gone
            ]
        );
    }

    #[test]
    fn an_operation_with_no_answer_or_two_answers_or_a_stray_one_is_unknown_not_failed() {
        let answers = vec![
            answered(Some("1"), CloseOutcome::Closed),
            answered(Some("2"), CloseOutcome::Closed),
            answered(Some("2"), CloseOutcome::Changed),
            answered(None, CloseOutcome::Closed),
            answered(Some("9"), CloseOutcome::Closed),
        ];
        let outcomes = match_answers(3, answers);
        assert_eq!(outcomes[0], CloseOutcome::Closed);
        assert!(is_unknown(&outcomes[1]), "{outcomes:?}");
        assert!(is_unknown(&outcomes[2]), "{outcomes:?}");
    }

    #[test]
    fn answers_without_content_ids_are_read_in_order_only_when_their_count_matches() {
        let two = || {
            vec![
                answered(None, CloseOutcome::Closed),
                answered(None, CloseOutcome::Changed),
            ]
        };
        assert_eq!(
            match_answers(2, two()),
            vec![CloseOutcome::Closed, CloseOutcome::Changed]
        );
        assert!(match_answers(3, two()).iter().all(is_unknown));
        assert!(match_answers(1, two()).iter().all(is_unknown));
    }

    #[test]
    fn a_change_set_answers_content_id_is_read_from_its_part() {
        let response = "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n\
            --cs\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\r\n\r\n--cs--\r\n--b--\r\n";
        let answers = decode("multipart/mixed; boundary=b", response).unwrap();
        assert_eq!(answers, vec![answered(Some("2"), CloseOutcome::Closed)]);
    }

    fn close(id: &str, version: u32) -> CloseRequest {
        CloseRequest {
            id: Guid::parse(id).unwrap(),
            etag: format!("W/\"{version}\""),
        }
    }

    #[test]
    fn each_close_is_a_conditional_patch_in_its_own_part() {
        let body = encode(
            "batch_x",
            "/api/data/v9.2/",
            "w4d_chatsessions",
            r#"{"statecode":1,"statuscode":2}"#,
            &[close(A, 1), close(B, 2)],
        );
        assert_eq!(body.matches("--batch_x\r\n").count(), 2);
        // One operation per change set, so that one failure rolls back nothing else.
        assert_eq!(body.matches("PATCH ").count(), 2);
        assert_eq!(
            body.matches("Content-Type: multipart/mixed; boundary=changeset_batch_x_")
                .count(),
            2
        );
        assert!(body.contains("Content-ID: 1\r\n") && body.contains("Content-ID: 2\r\n"));
        assert!(body.contains("--changeset_batch_x_2--\r\n"));
        assert!(body.contains(&format!(
            "PATCH /api/data/v9.2/w4d_chatsessions({A}) HTTP/1.1\r\n"
        )));
        assert!(body.contains("If-Match: W/\"2\"\r\n"));
        assert!(body.contains("Content-Length: 30\r\n"));
        assert!(body.ends_with("--batch_x--\r\n"));
    }

    #[test]
    fn each_operation_result_is_read_in_order() {
        let response = "--batchresponse_1\r\n\
            Content-Type: application/http\r\n\
            Content-Transfer-Encoding: binary\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\
            OData-Version: 4.0\r\n\r\n\r\n\
            --batchresponse_1\r\n\
            Content-Type: application/http\r\n\
            Content-Transfer-Encoding: binary\r\n\r\n\
            HTTP/1.1 412 Precondition Failed\r\n\
            Content-Type: application/json; odata.metadata=minimal\r\n\r\n\
            {\"error\":{\"code\":\"0x80060882\",\"message\":\"The version of the existing record doesn't match the RowVersion property provided.\"}}\r\n\
            --batchresponse_1\r\n\
            Content-Type: application/http\r\n\r\n\
            HTTP/1.1 400 Bad Request\r\n\
            Content-Type: application/json\r\n\r\n\
            {\"error\":{\"code\":\"0x80040203\",\"message\":\"Invalid status\"}}\r\n\
            --batchresponse_1\r\n\
            Content-Type: application/http\r\n\r\n\
            HTTP/1.1 404 Not Found\r\n\r\n\r\n\
            --batchresponse_1--\r\n";
        let outcomes = outcomes(decode(
            "multipart/mixed; boundary=batchresponse_1",
            response,
        ));
        assert_eq!(
            outcomes,
            vec![
                CloseOutcome::Closed,
                CloseOutcome::Changed,
                CloseOutcome::Failed {
                    status: 400,
                    message: "0x80040203: Invalid status".into()
                },
                CloseOutcome::Gone,
            ]
        );
    }

    #[test]
    fn a_change_set_response_is_flattened_in_order_and_lf_endings_are_accepted() {
        let response = "--b\nContent-Type: multipart/mixed; boundary=cs\n\n\
            --cs\nContent-Type: application/http\n\nHTTP/1.1 204 No Content\n\n\n\
            --cs\nContent-Type: application/http\n\nHTTP/1.1 412 Precondition Failed\n\n{}\n\
            --cs--\n\
            --b--\n";
        let outcomes = outcomes(decode("multipart/mixed;boundary=\"b\"", response));
        assert_eq!(outcomes, vec![CloseOutcome::Closed, CloseOutcome::Changed]);
    }

    #[test]
    fn the_first_blank_line_ends_the_headers_when_crlf_and_lf_endings_are_mixed() {
        let response = "--b\r\nContent-Type: application/http\r\n\r\n\
            HTTP/1.1 400 Bad Request\nContent-Type: application/json\n\n\
            {\"error\":{\"code\":\"0x80040203\",\"message\":\"Invalid status\"}}\n\
            --b--\r\n";
        let outcomes = outcomes(decode("multipart/mixed; boundary=b", response));
        assert_eq!(
            outcomes,
            vec![CloseOutcome::Failed {
                status: 400,
                message: "0x80040203: Invalid status".into()
            }]
        );
    }

    #[test]
    fn a_response_without_a_boundary_is_an_error() {
        assert!(decode("application/json", "{}").is_err());
    }

    #[test]
    fn a_torn_part_without_a_status_line_is_an_error() {
        let response = "--b\r\nContent-Type: application/http\r\n\r\nGARBAGE\r\n--b--\r\n";
        assert!(decode("multipart/mixed; boundary=b", response).is_err());
    }
}
