//! Batches over HTTP: submit → id → status → answers, for partners that post instead of dropping
//! files. `POST /v1/partners/{key}/batches` streams the body to the partner's work area, flushes
//! it to disk and records a queued job before it answers 202 `{"id"}` (bytes stored before they
//! are acknowledged); the mailbox worker processes it like an inbox file, so its answers are also
//! in the partner's outbox. `GET .../batches/{id}` gives the job's status and summary,
//! `GET .../batches/{id}/answers` the names of its answer files and `.../answers/{name}` one of them.
//!
//! Why a partner extension: these routes must only serve the partner that authenticated. The
//! authentication layer in front of them puts the partner's key in the request as
//! [`BatchPartner`]; a request without it is 401, and one for another partner's key is 403. The
//! router is therefore never useful unauthenticated.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::Shared;
use super::tree;
use crate::server::http::json_error;
use crate::storage::Store;
use crate::storage::jobs::{JobRecord, NewJob, source};

/// The partner the request authenticated as (set by the authentication layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPartner(pub String);

/// State of the batch routes.
#[derive(Debug, Clone)]
pub struct BatchesState {
    pub(super) shared: Arc<Shared>,
    pub(super) store: Store,
}

/// The batch routes, to be mounted behind the partner authentication.
pub fn router(state: BatchesState) -> Router {
    Router::new()
        .route("/v1/partners/{key}/batches", post(submit))
        .route("/v1/partners/{key}/batches/{id}", get(status))
        .route("/v1/partners/{key}/batches/{id}/answers", get(answers))
        .route("/v1/partners/{key}/batches/{id}/answers/{name}", get(answer))
        .with_state(state)
}

/// The refusal, unless the partner of the path is the authenticated one and has a mailbox.
fn refusal(state: &BatchesState, partner: Option<&BatchPartner>, key: &str) -> Option<Response> {
    let Some(BatchPartner(authenticated)) = partner else {
        return Some(json_error(StatusCode::UNAUTHORIZED, "unauthenticated", "partner credentials required"));
    };
    if authenticated != key {
        return Some(json_error(StatusCode::FORBIDDEN, "forbidden", "these batches belong to another partner"));
    }
    if !state.shared.partners.iter().any(|known| known == key) {
        return Some(json_error(StatusCode::NOT_FOUND, "unknown_partner", "no mailbox for this partner"));
    }
    None
}

fn internal(what: &str) -> Response {
    json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("{what}; see the daemon's log"))
}

async fn submit(
    State(state): State<BatchesState>,
    partner: Option<Extension<BatchPartner>>,
    Path(key): Path<String>,
    body: Body,
) -> Response {
    if let Some(refused) = refusal(&state, partner.as_deref(), &key) {
        return refused;
    }
    if state.shared.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "stopping", "the daemon is stopping; submit again");
    }
    let dirs = state.shared.tree.partner(&key);
    let token = state.shared.next_token();
    let work_dir = dirs.work.join(&token);
    let file_name = format!("batch-{token}.x12");
    let stored = work_dir.join(&file_name);
    let partial = work_dir.join(format!("{file_name}.part"));
    let written = async {
        tokio::fs::create_dir_all(&work_dir).await?;
        let mut file = tokio::fs::File::create(&partial).await?;
        let mut hasher = Sha256::new();
        let mut size = 0_u64;
        let mut body = body;
        while let Some(frame) = next_frame(&mut body).await {
            let Some(chunk) = frame.map_err(std::io::Error::other)? else { continue };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&partial, &stored).await?;
        let dir = work_dir.clone();
        tokio::task::spawn_blocking(move || tree::sync_dir(&dir)).await.map_err(std::io::Error::other)??;
        Ok::<_, std::io::Error>((size, tree::hex(&hasher.finalize())))
    }
    .await;
    let (size, sha256) = match written {
        Ok(written) => written,
        Err(error) => {
            let _ = tokio::fs::remove_dir_all(&work_dir).await;
            tracing::warn!(partner = %key, error = %error, "batch upload not stored");
            return json_error(StatusCode::BAD_REQUEST, "upload_failed", "the body could not be stored; send it again");
        }
    };
    if size == 0 {
        let _ = tokio::fs::remove_dir_all(&work_dir).await;
        return json_error(StatusCode::BAD_REQUEST, "empty_batch", "the body is empty: send the batch's interchanges");
    }
    let stored_text = stored.display().to_string();
    let job = NewJob {
        partner: &key,
        source: source::HTTP,
        file_name: &file_name,
        stored_path: &stored_text,
        size_bytes: Some(i64::try_from(size).unwrap_or(i64::MAX)),
        sha256: Some(&sha256),
    };
    match state.store.insert_job(&job, None, Utc::now()).await {
        Ok(id) => {
            tracing::info!(partner = %key, job = id, size, "batch received over HTTP");
            let location = format!("/v1/partners/{key}/batches/{id}");
            (
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(json!({"id": id, "status": "queued", "size_bytes": size, "sha256": sha256})),
            )
                .into_response()
        }
        Err(error) => {
            let _ = tokio::fs::remove_dir_all(&work_dir).await;
            tracing::warn!(partner = %key, error = %error, "batch job not recorded");
            internal("the batch could not be recorded")
        }
    }
}

/// The next frame of a request body as it arrives: its data, or `None` for trailers.
async fn next_frame(body: &mut Body) -> Option<Result<Option<Bytes>, axum::Error>> {
    std::future::poll_fn(|cx| {
        std::pin::Pin::new(&mut *body).poll_frame(cx).map(|frame| frame.map(|f| f.map(|f| f.into_data().ok())))
    })
    .await
}

async fn find(state: &BatchesState, key: &str, id: i64) -> Result<JobRecord, Response> {
    match state.store.get_job(id).await {
        Ok(Some(job)) if job.partner == key => Ok(job),
        Ok(_) => Err(json_error(StatusCode::NOT_FOUND, "not_found", "no such batch")),
        Err(error) => {
            tracing::warn!(job = id, error = %error, "reading a batch job failed");
            Err(internal("the batch could not be read"))
        }
    }
}

fn summary_of(job: &JobRecord) -> Value {
    job.summary.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or(Value::Null)
}

fn answer_names(job: &JobRecord) -> Vec<String> {
    summary_of(job)["answers"]
        .as_array()
        .map(|names| names.iter().filter_map(|name| name.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn status(
    State(state): State<BatchesState>,
    partner: Option<Extension<BatchPartner>>,
    Path((key, id)): Path<(String, i64)>,
) -> Response {
    if let Some(refused) = refusal(&state, partner.as_deref(), &key) {
        return refused;
    }
    let job = match find(&state, &key, id).await {
        Ok(job) => job,
        Err(refused) => return refused,
    };
    let summary = summary_of(&job);
    Json(json!({
        "id": job.id,
        "partner": job.partner,
        "source": job.source,
        "file_name": job.file_name,
        "status": job.status,
        "attempts": job.attempts,
        "size_bytes": job.size_bytes,
        "sha256": job.sha256,
        "created_at": job.created_at.to_rfc3339(),
        "finished_at": job.finished_at.map(|at| at.to_rfc3339()),
        "summary": summary["batch"],
        "answers": summary["answers"],
        "error": job.error,
    }))
    .into_response()
}

async fn answers(
    State(state): State<BatchesState>,
    partner: Option<Extension<BatchPartner>>,
    Path((key, id)): Path<(String, i64)>,
) -> Response {
    if let Some(refused) = refusal(&state, partner.as_deref(), &key) {
        return refused;
    }
    match find(&state, &key, id).await {
        Ok(job) => Json(json!({"id": job.id, "status": job.status, "answers": answer_names(&job)})).into_response(),
        Err(refused) => refused,
    }
}

async fn answer(
    State(state): State<BatchesState>,
    partner: Option<Extension<BatchPartner>>,
    Path((key, id, name)): Path<(String, i64, String)>,
) -> Response {
    if let Some(refused) = refusal(&state, partner.as_deref(), &key) {
        return refused;
    }
    let job = match find(&state, &key, id).await {
        Ok(job) => job,
        Err(refused) => return refused,
    };
    // Only a name the job wrote: never a path of the caller's choosing.
    if !answer_names(&job).contains(&name) {
        return json_error(StatusCode::NOT_FOUND, "not_found", "no such answer for this batch");
    }
    match tokio::fs::read(state.shared.tree.partner(&key).outbox.join(&name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/edi-x12")], bytes).into_response(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => json_error(
            StatusCode::GONE,
            "answer_removed",
            "the answer file is no longer in the partner's outbox (picked up and removed)",
        ),
        Err(error) => {
            tracing::warn!(job = id, error = %error, "reading an answer failed");
            internal("the answer could not be read")
        }
    }
}
