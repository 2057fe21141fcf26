//! The `$batch` wire format (OData 4.0 multipart/mixed) for closing sessions: one PATCH per
//! session, no change sets, so each operation stands alone and reports its own status.

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
    /// Anything else, with Dataverse's message.
    Failed {
        /// HTTP status of the operation, 0 when Dataverse sent no response for it.
        status: u16,
        /// Dataverse's message.
        message: String,
    },
}

/// The body of a `$batch` request that PATCHes each session at `{api_path}{table}({id})`.
pub fn encode(
    boundary: &str,
    api_path: &str,
    table: &str,
    body: &str,
    closes: &[CloseRequest],
) -> String {
    let mut out = String::with_capacity(closes.len() * (300 + body.len()));
    for close in closes {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "--{boundary}\r\n\
             Content-Type: application/http\r\n\
             Content-Transfer-Encoding: binary\r\n\
             \r\n\
             PATCH {api_path}{table}({id}) HTTP/1.1\r\n\
             Content-Type: application/json\r\n\
             Content-Length: {length}\r\n\
             If-Match: {etag}\r\n\
             \r\n\
             {body}\r\n",
            id = close.id,
            length = body.len(),
            etag = close.etag,
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

/// Reads the multipart response into one outcome per operation, in request order. A change-set
/// response (nested multipart) is flattened, so the order still holds.
pub fn decode(content_type: &str, body: &str) -> Result<Vec<CloseOutcome>, String> {
    let boundary = boundary_of(content_type).ok_or_else(|| {
        format!("the $batch response has no multipart boundary ({content_type:?})")
    })?;
    let mut outcomes = Vec::new();
    for part in parts(body, &boundary) {
        let (headers, content) = split_head(part);
        if let Some(nested) = header(headers, "content-type")
            .filter(|value| value.to_ascii_lowercase().starts_with("multipart/mixed"))
        {
            outcomes.extend(decode(nested, content)?);
            continue;
        }
        outcomes.push(outcome_of(content)?);
    }
    Ok(outcomes)
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
        assert!(body.contains(&format!(
            "PATCH /api/data/v9.2/w4d_chatsessions({A}) HTTP/1.1\r\n"
        )));
        assert!(body.contains("If-Match: W/\"2\"\r\n"));
        assert!(body.contains("Content-Length: 30\r\n"));
        assert!(body.ends_with("--batch_x--\r\n"));
        assert!(!body.contains("changeset"));
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
        let outcomes = decode("multipart/mixed; boundary=batchresponse_1", response).unwrap();
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
        let outcomes = decode("multipart/mixed;boundary=\"b\"", response).unwrap();
        assert_eq!(outcomes, vec![CloseOutcome::Closed, CloseOutcome::Changed]);
    }

    #[test]
    fn the_first_blank_line_ends_the_headers_when_crlf_and_lf_endings_are_mixed() {
        let response = "--b\r\nContent-Type: application/http\r\n\r\n\
            HTTP/1.1 400 Bad Request\nContent-Type: application/json\n\n\
            {\"error\":{\"code\":\"0x80040203\",\"message\":\"Invalid status\"}}\n\
            --b--\r\n";
        let outcomes = decode("multipart/mixed; boundary=b", response).unwrap();
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
