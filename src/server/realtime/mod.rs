//! The real-time endpoints (SPEC section 9, issue 6): `POST /v1/x12` (body one interchange,
//! `application/edi-x12`; reply the answer interchange) and `POST /v1/core` (the same in the CAQH
//! CORE connectivity envelope, real-time mode).
//!
//! Why this shape: a request is read and validated on the blocking pool (CPU work, the batch
//! path's own capture and validator), then handed to the one [`worker`] that logs, dedupes,
//! decides and answers it through the batch path's `process_interchange`; the HTTP side only
//! chooses what of the answers goes back. What goes back: the 278 responses or 271s when the
//! interchange was accepted; otherwise every answer in order (TA1, 999, then any replies to the
//! sets that were accepted), so a rejection is always explained. A resubmission gets the stored
//! answers through the same choice, so the same bytes. The partner must be authenticated
//! ([`AuthenticatedPartner`]) and the ISA06 must be one of its sender IDs (403 otherwise: see
//! docs/decisions/0009-real-time-endpoint.md).

pub mod core;
pub mod worker;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};

use self::worker::{Gateway, SubmitError};
use super::http::json_error;
use super::partners::{AuthenticatedPartner, PartnerDirectory, basic_credentials};
use crate::grammar::GuideSet;
use crate::pipeline::{Answer, Captured, Disposition};

/// The media type of X12 bodies.
pub const EDI_X12: &str = "application/edi-x12";

/// What the real-time handlers share.
#[derive(Debug, Clone)]
pub struct RealtimeState {
    pub gateway: Gateway,
    pub guides: &'static GuideSet,
}

/// `/v1/x12` and `/v1/core`, closed to unauthenticated callers.
pub fn routes(state: RealtimeState, partners: PartnerDirectory) -> Router {
    Router::new()
        .route("/v1/x12", post(post_x12))
        .route("/v1/core", post(post_core))
        .with_state(state)
        .layer(Extension(partners))
}

/// Why a body got no X12 answer.
#[derive(Debug)]
enum Refusal {
    NotX12,
    BadHeader,
    NotOne(usize),
    SenderNotAllowed { partner: String },
    NoAnswer,
    ShuttingDown,
    Failed,
}

impl Refusal {
    fn status_code_message(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::NotX12 => (
                StatusCode::BAD_REQUEST,
                "not_x12",
                "the body is not an X12 interchange (it must start with ISA)".into(),
            ),
            Self::BadHeader => (
                StatusCode::BAD_REQUEST,
                "unreadable_isa",
                "the ISA segment cannot be read (element separator, 16 elements, terminator)".into(),
            ),
            Self::NotOne(count) => (
                StatusCode::BAD_REQUEST,
                "one_interchange",
                format!("the body holds {count} interchanges or pieces; send exactly one per request"),
            ),
            Self::SenderNotAllowed { partner } => (
                StatusCode::FORBIDDEN,
                "sender_not_allowed",
                format!("ISA06 is not one of the sender IDs of partner {partner} ([[partners]] sender_ids)"),
            ),
            Self::NoAnswer => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_answer",
                "the interchange was stored but nothing can be answered to it".into(),
            ),
            Self::ShuttingDown => {
                (StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the daemon is stopping; try again later".into())
            }
            Self::Failed => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "processing_failed",
                "the interchange could not be processed; the error is in the daemon's log".into(),
            ),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, code, message) = self.status_code_message();
        json_error(status, code, message)
    }
}

async fn post_x12(partner: AuthenticatedPartner, State(state): State<RealtimeState>, body: Bytes) -> Response {
    match answer(&state, &partner, "http", body).await {
        Ok(answers) => ([(header::CONTENT_TYPE, EDI_X12)], concatenate(&answers)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn post_core(
    Extension(partners): Extension<PartnerDirectory>,
    State(state): State<RealtimeState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(fields) = core::boundary(content_type).and_then(|boundary| core::parse_multipart(&body, &boundary)) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "not_multipart",
            "the body is not multipart/form-data (the CAQH CORE envelope); send one interchange as application/edi-x12 to /v1/x12",
        );
    };
    let envelope = core::read_request(&fields);
    // HTTP Basic first; a Phase II envelope may carry Username and Password instead.
    let credentials =
        headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(basic_credentials).or_else(
            || {
                let request = envelope.as_ref().ok()?;
                Some((request.username.clone()?, request.password.clone()?))
            },
        );
    let partner = match partners.admit(credentials).await {
        Ok(partner) => partner,
        Err(response) => return response,
    };
    let request = match envelope {
        Ok(request) => request,
        Err(error) => return core_reply(&core::error_response(&fields, &error)),
    };
    match answer(&state, &partner, "core", Bytes::from(request.payload.clone())).await {
        Ok(answers) => {
            // The payload type of the main answer: the reply to the request, else the 999, else the TA1.
            let kind = ["278", "271", "999", "TA1"]
                .into_iter()
                .find(|kind| answers.iter().any(|answer| answer.kind == *kind))
                .unwrap_or("TA1");
            let response = core::success_response(&request, core::response_payload_type(kind), concatenate(&answers));
            core_reply(&response)
        }
        Err(refusal @ (Refusal::NotX12 | Refusal::BadHeader | Refusal::NotOne(_))) => {
            let (_, _, message) = refusal.status_code_message();
            let error = core::EnvelopeError::Illegal { field: "Payload", message };
            core_reply(&core::error_response(&fields, &error))
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn core_reply(response: &core::CoreResponse) -> Response {
    let (body, boundary) = core::write_response(response);
    ([(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))], body).into_response()
}

/// Reads, checks and answers one interchange sent by `partner` over `channel` (`http`, `core`).
async fn answer(
    state: &RealtimeState,
    partner: &AuthenticatedPartner,
    channel: &str,
    body: Bytes,
) -> Result<Vec<Answer>, Refusal> {
    let start = body.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(body.len());
    let end = body.iter().rposition(|byte| !byte.is_ascii_whitespace()).map_or(start, |last| last + 1);
    let body = body.slice(start..end.max(start));
    if !body.starts_with(b"ISA") {
        return Err(Refusal::NotX12);
    }
    let header = crate::x12::isa::parse_isa(&body).map_err(|_| Refusal::BadHeader)?;
    if !partner.allows_sender(header.field(6)) {
        tracing::warn!(partner = %partner.key, isa13 = header.control_number().trim(), "ISA06 not a sender ID of the partner");
        return Err(Refusal::SenderNotAllowed { partner: partner.key.clone() });
    }
    let guides = state.guides;
    let mut pieces = tokio::task::spawn_blocking(move || cut(&body, guides)).await.map_err(|_| Refusal::Failed)?;
    if pieces.len() != 1 {
        return Err(Refusal::NotOne(pieces.len()));
    }
    let captured = pieces.pop().ok_or(Refusal::NotX12)?;
    let all_accepted = captured.report().all_accepted();
    let source = format!("{channel}/{}", partner.key);
    let disposition = match state.gateway.submit(source, captured).await {
        Ok(disposition) => disposition,
        Err(SubmitError::ShuttingDown) => return Err(Refusal::ShuttingDown),
        Err(SubmitError::Pipeline(_)) => return Err(Refusal::Failed),
    };
    let answers = match disposition {
        Disposition::Answered { answers, .. } | Disposition::Resubmitted { answers, .. } => {
            choose(answers, all_accepted)
        }
        Disposition::DuplicateControlNumber { answers, .. } => answers,
    };
    if answers.is_empty() {
        return Err(Refusal::NoAnswer);
    }
    Ok(answers)
}

/// The interchanges of a body, validated, with their trees (what `umgate process` reads).
fn cut(body: &[u8], guides: &GuideSet) -> Vec<Captured> {
    let mut pieces = Vec::new();
    let (tee, mut observer) = crate::pipeline::capture::capture(body, |captured| pieces.push(captured));
    // Reading from memory fails only on what the validator cannot read at all; what was read is
    // still handed out by `finish` (and answered with a TA1 or 999 when it can be).
    let _ = crate::validation::validate_stream(tee, "request", guides, &mut observer);
    observer.finish();
    pieces
}

/// What of the answers goes back: the replies alone when everything was accepted and there are
/// replies; else all of them (TA1, 999, replies), so that a rejection is explained.
fn choose(answers: Vec<Answer>, all_accepted: bool) -> Vec<Answer> {
    let replies = answers.iter().any(|answer| answer.kind == "278" || answer.kind == "271");
    if all_accepted && replies {
        answers.into_iter().filter(|answer| answer.kind == "278" || answer.kind == "271").collect()
    } else {
        answers
    }
}

fn concatenate(answers: &[Answer]) -> Vec<u8> {
    answers.iter().flat_map(|answer| answer.bytes.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(kind: &str) -> Answer {
        Answer { kind: kind.into(), control_number: "000000001".into(), bytes: format!("{kind}~\n").into_bytes() }
    }

    #[test]
    fn accepted_interchanges_get_their_replies_alone_rejected_ones_everything() {
        let all = vec![answer("999"), answer("278")];
        let kinds = |answers: Vec<Answer>| answers.into_iter().map(|a| a.kind).collect::<Vec<_>>();
        assert_eq!(kinds(choose(all.clone(), true)), ["278"]);
        assert_eq!(kinds(choose(all, false)), ["999", "278"]);
        assert_eq!(kinds(choose(vec![answer("TA1"), answer("999")], false)), ["TA1", "999"]);
        // Accepted but nothing to reply with (no request sets): the 999 still answers.
        assert_eq!(kinds(choose(vec![answer("999")], true)), ["999"]);
        assert_eq!(concatenate(&[answer("999"), answer("271")]), b"999~\n271~\n");
    }
}
