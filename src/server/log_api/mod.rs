//! The transaction log over HTTP (SPEC section 6: "search by sender, control number, date,
//! status; view raw X12 and the acknowledgments sent"):
//!
//! - `GET /v1/log?sender=&receiver=&control_number=&since=&until=&type=&status=&limit=&cursor=`:
//!   inbound interchanges, newest first, `{"items": [...], "next_cursor": ...}`;
//! - `GET /v1/log/outputs?kind=&control_number=&partner=&interchange=&since=&until=&limit=&cursor=`:
//!   the answers sent, newest first;
//! - `GET /v1/log/{id}`: one interchange with its answers, acknowledgments, cases and duplicates;
//! - `GET /v1/log/{id}/raw` and `GET /v1/log/{id}/outputs/{seq}/raw`: the bytes as received or
//!   sent (`application/edi-x12`).
//!
//! Why behind an administrator token: these answers carry protected health information. Until
//! issue 7's users and roles exist, a bearer token set in the environment ([`config`]) guards them;
//! without one configured they answer 403 with how to enable them. Errors are the JSON of
//! [`json_error`]; a store failure is a 500 that names no row value.

pub mod config;
pub mod view;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use self::config::AdminToken;
use super::http::json_error;
use crate::storage::{Store, StoreError};

/// The media type of raw interchanges.
const EDI_X12: &str = "application/edi-x12";

/// What the log endpoints need.
#[derive(Debug, Clone)]
pub struct LogApi {
    pub store: Store,
    /// `None`: every request is refused with 403.
    pub admin_token: Option<AdminToken>,
}

/// The log's routes, guarded by the administrator token, to merge into the daemon's router.
pub fn routes(api: LogApi) -> Router {
    let guard = api.admin_token.clone();
    Router::new()
        .route("/v1/log", get(search))
        .route("/v1/log/outputs", get(search_outputs))
        .route("/v1/log/{id}", get(show))
        .route("/v1/log/{id}/raw", get(raw))
        .route("/v1/log/{id}/outputs/{seq}/raw", get(output_raw))
        .route_layer(axum::middleware::from_fn_with_state(guard, require_admin))
        .with_state(api)
}

/// 403 when no token is configured, 401 (with `WWW-Authenticate: Bearer`) when the request does
/// not carry it.
async fn require_admin(State(token): State<Option<AdminToken>>, request: Request, next: Next) -> Response {
    let Some(token) = token else {
        return json_error(
            StatusCode::FORBIDDEN,
            "admin_api_disabled",
            format!(
                "the transaction log endpoints are disabled: start the daemon with {} (at least {} characters) or {} \
                 (its SHA-256 in hex) and send it as `Authorization: Bearer TOKEN`",
                config::env::ADMIN_TOKEN,
                config::defaults::MIN_TOKEN_CHARS,
                config::env::ADMIN_TOKEN_SHA256
            ),
        );
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim);
    if presented.is_some_and(|presented| token.matches(presented)) {
        // PHI: no shared or browser cache may keep it.
        let mut response = next.run(request).await;
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let mut response = json_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "send the administrator token as `Authorization: Bearer TOKEN`",
    );
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn bad_request(message: impl Into<String>) -> Response {
    json_error(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn not_found(what: &str) -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", format!("no such {what} in the transaction log"))
}

fn store_failed(error: &StoreError) -> Response {
    // StoreError's Display names the operation and the failure kind, never a row value.
    tracing::warn!(error = %error, "transaction log request failed");
    json_error(StatusCode::INTERNAL_SERVER_ERROR, "store_error", "the transaction log could not be read; try again")
}

fn query_error(rejection: &QueryRejection) -> Response {
    bad_request(format!("{rejection}"))
}

/// A path number, or the 400 that says it is not one.
fn id(text: &str, what: &str) -> Result<i64, Box<Response>> {
    text.parse::<i64>().map_err(|_| Box::new(bad_request(format!("{what} must be a number"))))
}

async fn search(State(api): State<LogApi>, filters: Result<Query<view::SearchFilters>, QueryRejection>) -> Response {
    let filters = match filters {
        Ok(Query(filters)) => filters,
        Err(rejection) => return query_error(&rejection),
    };
    let query = match filters.to_query() {
        Ok(query) => query,
        Err(error) => return bad_request(error.0),
    };
    match api.store.search_interchanges(&query).await {
        Ok(page) => axum::Json(view::page_json(&page, view::interchange_json)).into_response(),
        Err(error) => store_failed(&error),
    }
}

async fn search_outputs(
    State(api): State<LogApi>,
    filters: Result<Query<view::OutputFilters>, QueryRejection>,
) -> Response {
    let filters = match filters {
        Ok(Query(filters)) => filters,
        Err(rejection) => return query_error(&rejection),
    };
    let query = match filters.to_query() {
        Ok(query) => query,
        Err(error) => return bad_request(error.0),
    };
    match api.store.search_outputs(&query).await {
        Ok(page) => axum::Json(view::page_json(&page, view::output_json)).into_response(),
        Err(error) => store_failed(&error),
    }
}

async fn show(State(api): State<LogApi>, Path(text): Path<String>) -> Response {
    let id = match id(&text, "the interchange id") {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match view::detail_json(&api.store, id).await {
        Ok(Some(detail)) => axum::Json(detail).into_response(),
        Ok(None) => not_found("interchange"),
        Err(error) => store_failed(&error),
    }
}

fn x12_body(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, EDI_X12)], bytes).into_response()
}

async fn raw(State(api): State<LogApi>, Path(text): Path<String>) -> Response {
    let id = match id(&text, "the interchange id") {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match api.store.get_interchange(id).await {
        Ok(Some(record)) => x12_body(record.content),
        Ok(None) => not_found("interchange"),
        Err(error) => store_failed(&error),
    }
}

async fn output_raw(State(api): State<LogApi>, Path((text, seq)): Path<(String, String)>) -> Response {
    let (id, seq) = match (id(&text, "the interchange id"), id(&seq, "the answer's sequence number")) {
        (Ok(id), Ok(seq)) => (id, seq),
        (Err(response), _) | (_, Err(response)) => return *response,
    };
    match api.store.interchange_output(id, seq).await {
        Ok(Some(output)) => x12_body(output.content),
        Ok(None) => not_found("answer"),
        Err(error) => store_failed(&error),
    }
}
