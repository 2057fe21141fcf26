//! Each close is a conditional PATCH in a change set of its own, a message goes in the same
//! change set after it, and answers are read and matched to their change sets on their
//! Content-ID (a failed change set answering its failing operation alone).
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;

const A: &str = "00000000-0000-4000-8000-00000000000a";
const B: &str = "00000000-0000-4000-8000-00000000000b";

fn outcomes(decoded: Result<Vec<Answered>, String>) -> Vec<CloseOutcome> {
    decoded.unwrap().into_iter().map(|a| a.outcome).collect()
}

fn answered(content_id: Option<&str>, outcome: CloseOutcome) -> Answered {
    Answered {
        content_id: content_id.map(str::to_owned),
        part: 0,
        outcome,
    }
}

/// `answers` each in a part of its own, as a batch of single-operation change sets answers.
fn in_parts(answers: Vec<Answered>) -> Vec<Answered> {
    answers
        .into_iter()
        .enumerate()
        .map(|(part, answer)| Answered { part, ..answer })
        .collect()
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
        match_answers(3, in_parts(answers)),
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
    let outcomes = match_answers(3, in_parts(answers));
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
        match_answers(2, in_parts(two())),
        vec![CloseOutcome::Closed, CloseOutcome::Changed]
    );
    assert!(match_answers(3, in_parts(two())).iter().all(is_unknown));
    assert!(match_answers(1, in_parts(two())).iter().all(is_unknown));
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

fn patch(id: &str) -> Operation {
    Operation {
        method: "PATCH",
        path: format!("w4d_chatsessions({id})"),
        if_match: Some("W/\"7\"".into()),
        body: r#"{"w4d_warnedon":"2026-11-25T15:00:00Z"}"#.into(),
    }
}

fn post(path: &str) -> Operation {
    Operation {
        method: "POST",
        path: path.into(),
        if_match: None,
        body: r#"{"w4d_body":"Still there?"}"#.into(),
    }
}

#[test]
fn a_patch_and_its_message_share_one_change_set_in_that_order_with_ids_unique_in_the_batch() {
    let body = encode_change_sets(
        "batch_x",
        "/api/data/v9.2/",
        &[
            vec![patch(A), post("w4d_whatsappmessages")],
            vec![patch(B), post("w4d_whatsappmessages")],
        ],
    );
    assert_eq!(body.matches("--batch_x\r\n").count(), 2);
    let first = body.split("--batch_x\r\n").nth(1).unwrap();
    let patch_at = first.find(&format!(
        "PATCH /api/data/v9.2/w4d_chatsessions({A}) HTTP/1.1\r\n"
    ));
    let post_at = first.find("POST /api/data/v9.2/w4d_whatsappmessages HTTP/1.1\r\n");
    assert!(patch_at.unwrap() < post_at.unwrap(), "{first}");
    for id in 1..=4 {
        assert_eq!(
            body.matches(&format!("Content-ID: {id}\r\n")).count(),
            1,
            "{body}"
        );
    }
    // Only the PATCH is conditional: the message row is new.
    assert_eq!(body.matches("If-Match: W/\"7\"\r\n").count(), 2);
    assert_eq!(body.matches("If-Match").count(), 2);
    assert!(body.contains("--changeset_batch_x_2--\r\n"));
    assert!(body.ends_with("--batch_x--\r\n"));
}

fn at_part(part: usize, content_id: Option<&str>, outcome: CloseOutcome) -> Answered {
    Answered {
        part,
        ..answered(content_id, outcome)
    }
}

#[test]
fn a_change_set_is_done_only_when_each_of_its_operations_answered_a_success() {
    let answers = vec![
        at_part(0, Some("1"), CloseOutcome::Closed),
        at_part(0, Some("2"), CloseOutcome::Closed),
        at_part(1, Some("3"), CloseOutcome::Closed),
    ];
    let outcomes = match_change_sets(&[2, 2], answers);
    assert_eq!(outcomes[0], CloseOutcome::Closed);
    assert!(is_unknown(&outcomes[1]), "{outcomes:?}");
}

#[test]
fn a_412_on_the_patch_is_the_change_sets_answer_and_nothing_of_it_ran() {
    let answers = vec![
        at_part(0, Some("1"), CloseOutcome::Changed),
        at_part(1, Some("3"), CloseOutcome::Closed),
        at_part(1, Some("4"), CloseOutcome::Closed),
    ];
    assert_eq!(
        match_change_sets(&[2, 2], answers),
        vec![CloseOutcome::Changed, CloseOutcome::Closed]
    );
}

#[test]
fn a_refused_message_fails_its_change_set_even_when_its_patch_would_have_succeeded() {
    let refused = CloseOutcome::Failed {
        status: 400,
        message: "0x80040203: Invalid value for w4d_direction".into(),
    };
    let outcomes = match_change_sets(&[2], vec![at_part(0, Some("2"), refused)]);
    let CloseOutcome::Failed { status, message } = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(*status, 400);
    assert!(message.contains("the message was refused"), "{message}");
    assert!(message.contains("w4d_direction"), "{message}");
}

#[test]
fn a_failed_change_set_without_content_ids_is_placed_by_its_part() {
    let answers = vec![
        at_part(0, None, CloseOutcome::Closed),
        at_part(0, None, CloseOutcome::Closed),
        at_part(1, None, CloseOutcome::Changed),
    ];
    assert_eq!(
        match_change_sets(&[2, 2], answers),
        vec![CloseOutcome::Closed, CloseOutcome::Changed]
    );
}

#[test]
fn a_failed_change_sets_single_answer_decodes_to_its_failing_operation() {
    let response = "--batchresponse_1\r\n\
        Content-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n\
        --changesetresponse_1\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
        HTTP/1.1 204 No Content\r\n\r\n\r\n\
        --changesetresponse_1\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\n\
        HTTP/1.1 204 No Content\r\n\r\n\r\n\
        --changesetresponse_1--\r\n\
        --batchresponse_1\r\n\
        Content-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n\
        --changesetresponse_2\r\nContent-Type: application/http\r\nContent-ID: 3\r\n\r\n\
        HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n\
        {\"error\":{\"code\":\"0x80060882\",\"message\":\"The version of the existing record doesn't match\"}}\r\n\
        --changesetresponse_2--\r\n\
        --batchresponse_1--\r\n";
    let answers = decode("multipart/mixed; boundary=batchresponse_1", response).unwrap();
    assert_eq!(
        answers.iter().map(|a| a.part).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
    assert_eq!(
        match_change_sets(&[2, 2], answers),
        vec![CloseOutcome::Closed, CloseOutcome::Changed]
    );
}

#[test]
fn reads_are_gets_each_in_a_part_of_its_own_outside_any_change_set() {
    let urls = [
        reqwest::Url::parse(
            "https://org.crm.dynamics.com/api/data/v9.2/w4d_chatsessions?$select=createdon&$top=1",
        )
        .unwrap(),
        reqwest::Url::parse(
            "https://org.crm.dynamics.com/api/data/v9.2/w4d_whatsappconfigurations",
        )
        .unwrap(),
    ];
    let body = encode_reads("batch_x", &urls);
    assert_eq!(
        body,
        "--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         GET /api/data/v9.2/w4d_chatsessions?$select=createdon&$top=1 HTTP/1.1\r\nAccept: application/json\r\n\r\n\
         --batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         GET /api/data/v9.2/w4d_whatsappconfigurations HTTP/1.1\r\nAccept: application/json\r\n\r\n\
         --batch_x--\r\n"
    );
    assert!(!body.contains("changeset"));
}

#[test]
fn the_answers_to_reads_are_their_statuses_and_bodies_in_the_order_sent_back() {
    let body = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n\
                {\"value\":[{\"createdon\":\"2026-11-24T15:00:00Z\"}]}\r\n\
                --batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n\
                {\"error\":{\"code\":\"0x80060888\",\"message\":\"bad\"}}\r\n\
                --batchresponse_1--\r\n";
    let answers = decode_reads("multipart/mixed; boundary=batchresponse_1", body).unwrap();
    assert_eq!(
        answers,
        [
            ReadAnswer {
                status: 200,
                body: "{\"value\":[{\"createdon\":\"2026-11-24T15:00:00Z\"}]}".into()
            },
            ReadAnswer {
                status: 400,
                body: "{\"error\":{\"code\":\"0x80060888\",\"message\":\"bad\"}}".into()
            },
        ]
    );
}

#[test]
fn an_answer_to_reads_holding_a_change_set_or_a_part_without_a_status_is_refused() {
    let nested = "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\n\r\n\
                  HTTP/1.1 204 No Content\r\n\r\n\r\n--c--\r\n--b--\r\n";
    assert!(decode_reads("multipart/mixed; boundary=b", nested).is_err());
    let garbled = "--b\r\nContent-Type: application/http\r\n\r\nnot http\r\n--b--\r\n";
    assert!(decode_reads("multipart/mixed; boundary=b", garbled).is_err());
    assert!(decode_reads("application/json", "{}").is_err());
}
