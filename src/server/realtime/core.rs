//! The CAQH CORE connectivity envelope (Phase II CORE 270 / Phase IV CORE 470, HTTP MIME
//! multipart), real-time mode: the request's fields read and checked, the response's fields
//! written, as pure functions over bytes.
//!
//! Why pure and ours: the envelope is a handful of `multipart/form-data` fields (PayloadType,
//! ProcessingMode, PayloadID, TimeStamp, SenderID, ReceiverID, CORERuleVersion, Payload, and in
//! Phase II optionally Username and Password); a small parser over the (already size-limited)
//! body keeps its rules testable without a server. Envelope problems are answered in the
//! envelope (`ErrorCode` `<Field>Required`, `<Field>Illegal`, `VersionMismatch`), with no payload;
//! an interchange that is read but rejected is an envelope `Success` whose payload is the 999 or
//! TA1. See docs/decisions/0009-real-time-endpoint.md.

use std::fmt;

/// Request payload types answered in real time.
pub const PAYLOAD_278_REQUEST: &str = "X12_278_Request_005010X217E1_2";
pub const PAYLOAD_270_REQUEST: &str = "X12_270_Request_005010X279A1";
/// Response payload types, by the kind of the answer interchange.
pub const PAYLOAD_278_RESPONSE: &str = "X12_278_Response_005010X217E1_2";
pub const PAYLOAD_271_RESPONSE: &str = "X12_271_Response_005010X279A1";
pub const PAYLOAD_999_RESPONSE: &str = "X12_999_Response_005010X231A1";
pub const PAYLOAD_TA1_RESPONSE: &str = "X12_TA1_Response_00501X231A1";

/// The CORE rule versions whose envelope this endpoint speaks (Phase II 2.2.0, Phase IV 4.0.0,
/// and their names in the 2020 renumbering).
pub const RULE_VERSIONS: [&str; 4] = ["2.2.0", "4.0.0", "C2.2.0", "C4.0.0"];

/// `ProcessingMode`.
pub const REAL_TIME: &str = "RealTime";
pub const BATCH: &str = "Batch";

/// `ErrorCode` of an envelope processed without problem.
pub const SUCCESS: &str = "Success";

/// A real-time request envelope, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreRequest {
    pub payload_type: String,
    pub payload_id: String,
    pub timestamp: String,
    pub sender_id: String,
    pub receiver_id: String,
    pub rule_version: String,
    pub payload: Vec<u8>,
    /// Phase II credentials in the envelope (HTTP Basic is preferred).
    pub username: Option<String>,
    pub password: Option<String>,
}

/// What is wrong with a request envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// A required field is missing or empty.
    Required(&'static str),
    /// A field has a value this endpoint does not accept.
    Illegal { field: &'static str, message: String },
    /// A `CORERuleVersion` not spoken here.
    VersionMismatch(String),
}

impl EnvelopeError {
    /// The envelope's `ErrorCode`.
    pub fn code(&self) -> String {
        match self {
            Self::Required(field) => format!("{field}Required"),
            Self::Illegal { field, .. } => format!("{field}Illegal"),
            Self::VersionMismatch(_) => "VersionMismatch".to_owned(),
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required(field) => write!(f, "the field {field} is required"),
            Self::Illegal { field, message } => write!(f, "illegal value of {field}: {message}"),
            Self::VersionMismatch(version) => {
                write!(f, "CORERuleVersion {version:?} is not supported; use one of {}", RULE_VERSIONS.join(", "))
            }
        }
    }
}

/// A response envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreResponse {
    pub payload_type: String,
    pub payload_id: String,
    pub timestamp: String,
    pub sender_id: String,
    pub receiver_id: String,
    pub rule_version: String,
    pub payload: Option<Vec<u8>>,
    pub error_code: String,
    pub error_message: String,
}

/// The fields of a `multipart/form-data` body, in order: (name, content).
pub type Fields = Vec<(String, Vec<u8>)>;

/// The boundary of a `multipart/...; boundary=...` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, parameters) = content_type.split_once(';')?;
    if !kind.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    parameters.split(';').find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The fields of a multipart body (RFC 7578); `None` when it is not one.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Option<Fields> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut fields = Vec::new();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(fields);
        }
        rest = rest.strip_prefix(b"\r\n").or_else(|| rest.strip_prefix(b"\n"))?;
        let (headers_end, separator) = match find(rest, b"\r\n\r\n") {
            Some(at) => (at, 4),
            None => (find(rest, b"\n\n")?, 2),
        };
        let headers = String::from_utf8_lossy(&rest[..headers_end]);
        let content_start = headers_end + separator;
        let mut next_delimiter = b"\r\n".to_vec();
        next_delimiter.extend_from_slice(&delimiter);
        let (content_end, after) = match find(&rest[content_start..], &next_delimiter) {
            Some(at) => (content_start + at, content_start + at + next_delimiter.len()),
            None => {
                let at = find(&rest[content_start..], &delimiter)?;
                let end = content_start + at;
                let trimmed = if rest[..end].ends_with(b"\n") { end - 1 } else { end };
                (trimmed, end + delimiter.len())
            }
        };
        if let Some(name) = field_name(&headers) {
            fields.push((name, rest[content_start..content_end].to_vec()));
        }
        rest = &rest[after..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// `name` of a part's `Content-Disposition: form-data; name="..."`.
fn field_name(headers: &str) -> Option<String> {
    headers.lines().find_map(|line| {
        let (header, value) = line.split_once(':')?;
        if !header.trim().eq_ignore_ascii_case("content-disposition") {
            return None;
        }
        value.split(';').find_map(|parameter| {
            let (name, value) = parameter.split_once('=')?;
            name.trim().eq_ignore_ascii_case("name").then(|| value.trim().trim_matches('"').to_owned())
        })
    })
}

/// Reads and checks a real-time request envelope.
pub fn read_request(fields: &Fields) -> Result<CoreRequest, EnvelopeError> {
    let text = |name: &'static str| -> Option<String> {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| String::from_utf8_lossy(value).trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let required = |name: &'static str| text(name).ok_or(EnvelopeError::Required(name));
    let processing_mode = required("ProcessingMode")?;
    if processing_mode != REAL_TIME {
        let message = if processing_mode == BATCH {
            "this endpoint answers RealTime only; send batches to the partner's mailbox".to_owned()
        } else {
            format!("{processing_mode:?} is neither RealTime nor Batch")
        };
        return Err(EnvelopeError::Illegal { field: "ProcessingMode", message });
    }
    let payload_type = required("PayloadType")?;
    if payload_type != PAYLOAD_278_REQUEST && payload_type != PAYLOAD_270_REQUEST {
        return Err(EnvelopeError::Illegal {
            field: "PayloadType",
            message: format!(
                "{payload_type:?} is not answered in real time here; use {PAYLOAD_278_REQUEST} or {PAYLOAD_270_REQUEST}"
            ),
        });
    }
    let payload_id = required("PayloadID")?;
    let timestamp = required("TimeStamp")?;
    if !is_date_time(&timestamp) {
        return Err(EnvelopeError::Illegal {
            field: "TimeStamp",
            message: "expected an XML Schema dateTime such as 2026-11-23T17:00:00Z".into(),
        });
    }
    let sender_id = required("SenderID")?;
    let receiver_id = required("ReceiverID")?;
    let rule_version = required("CORERuleVersion")?;
    if !RULE_VERSIONS.contains(&rule_version.as_str()) {
        return Err(EnvelopeError::VersionMismatch(rule_version));
    }
    let payload = fields
        .iter()
        .find(|(field, _)| field == "Payload")
        .map(|(_, value)| value.clone())
        .filter(|value| !value.iter().all(u8::is_ascii_whitespace))
        .ok_or(EnvelopeError::Required("Payload"))?;
    Ok(CoreRequest {
        payload_type,
        payload_id,
        timestamp,
        sender_id,
        receiver_id,
        rule_version,
        payload,
        username: text("Username"),
        password: fields.iter().find(|(field, _)| field == "Password").map(|(_, v)| String::from_utf8_lossy(v).into()),
    })
}

fn is_date_time(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// The response `PayloadType` of an answer interchange kind (`278`, `271`, `999`, `TA1`).
pub fn response_payload_type(kind: &str) -> &'static str {
    match kind {
        "278" => PAYLOAD_278_RESPONSE,
        "271" => PAYLOAD_271_RESPONSE,
        "999" => PAYLOAD_999_RESPONSE,
        _ => PAYLOAD_TA1_RESPONSE,
    }
}

/// The current time as the envelope writes it.
pub fn timestamp_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A response envelope to a request whose fields may be incomplete (an envelope error):
/// sender and receiver swapped, the same PayloadID and rule version.
pub fn error_response(fields: &Fields, error: &EnvelopeError) -> CoreResponse {
    let text = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| String::from_utf8_lossy(value).trim().to_owned())
            .unwrap_or_default()
    };
    CoreResponse {
        payload_type: text("PayloadType"),
        payload_id: text("PayloadID"),
        timestamp: timestamp_now(),
        sender_id: text("ReceiverID"),
        receiver_id: text("SenderID"),
        rule_version: text("CORERuleVersion"),
        payload: None,
        error_code: error.code(),
        error_message: error.to_string(),
    }
}

/// The response to a request that was read: the answer's payload type and payload.
pub fn success_response(request: &CoreRequest, payload_type: &str, payload: Vec<u8>) -> CoreResponse {
    CoreResponse {
        payload_type: payload_type.to_owned(),
        payload_id: request.payload_id.clone(),
        timestamp: timestamp_now(),
        sender_id: request.receiver_id.clone(),
        receiver_id: request.sender_id.clone(),
        rule_version: request.rule_version.clone(),
        payload: Some(payload),
        error_code: SUCCESS.to_owned(),
        error_message: "Envelope was processed successfully".to_owned(),
    }
}

/// The multipart body of a response, and its boundary (derived from the PayloadID and time,
/// lengthened until it does not occur in the payload).
pub fn write_response(response: &CoreResponse) -> (Vec<u8>, String) {
    // RFC 2046: at most 70 characters.
    let seed = format!("{}{}", response.payload_id, response.timestamp);
    let mut boundary = format!("umgate-core-{}", &crate::pipeline::answer::content_hash(seed.as_bytes())[..40]);
    while response.payload.as_deref().is_some_and(|payload| find(payload, boundary.as_bytes()).is_some()) {
        boundary.push('x');
    }
    let mut body = Vec::new();
    let mut field = |name: &str, value: &[u8]| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    field("PayloadType", response.payload_type.as_bytes());
    field("ProcessingMode", REAL_TIME.as_bytes());
    field("PayloadID", response.payload_id.as_bytes());
    field("TimeStamp", response.timestamp.as_bytes());
    field("SenderID", response.sender_id.as_bytes());
    field("ReceiverID", response.receiver_id.as_bytes());
    field("CORERuleVersion", response.rule_version.as_bytes());
    if let Some(payload) = &response.payload {
        field("Payload", payload);
    }
    field("ErrorCode", response.error_code.as_bytes());
    field("ErrorMessage", response.error_message.as_bytes());
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, boundary)
}

/// Writes a request envelope (for clients: the load tool and the tests).
pub fn write_request(request: &CoreRequest, boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    let mut field = |name: &str, value: &[u8]| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    field("PayloadType", request.payload_type.as_bytes());
    field("ProcessingMode", REAL_TIME.as_bytes());
    field("PayloadID", request.payload_id.as_bytes());
    field("TimeStamp", request.timestamp.as_bytes());
    field("SenderID", request.sender_id.as_bytes());
    field("ReceiverID", request.receiver_id.as_bytes());
    field("CORERuleVersion", request.rule_version.as_bytes());
    if let Some(username) = &request.username {
        field("Username", username.as_bytes());
    }
    if let Some(password) = &request.password {
        field("Password", password.as_bytes());
    }
    field("Payload", &request.payload);
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request() -> CoreRequest {
        CoreRequest {
            payload_type: PAYLOAD_278_REQUEST.into(),
            payload_id: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into(),
            timestamp: "2026-11-23T17:00:00Z".into(),
            sender_id: "CLEARINGHOUSE".into(),
            receiver_id: "UMGATE".into(),
            rule_version: "2.2.0".into(),
            payload: b"ISA*00*...~IEA*1*000000001~\n".to_vec(),
            username: None,
            password: None,
        }
    }

    fn fields_of(request: &CoreRequest) -> Fields {
        let body = write_request(request, "b0undary");
        parse_multipart(&body, "b0undary").unwrap()
    }

    #[test]
    fn a_request_round_trips_through_multipart() {
        let request = request();
        assert_eq!(read_request(&fields_of(&request)), Ok(request));
    }

    #[test]
    fn missing_and_illegal_fields_are_named_in_the_error_code() {
        let mut fields = fields_of(&request());
        fields.retain(|(name, _)| name != "PayloadID");
        assert_eq!(read_request(&fields).unwrap_err().code(), "PayloadIDRequired");

        let batch = CoreRequest { payload_type: PAYLOAD_278_REQUEST.into(), ..request() };
        let mut fields = fields_of(&batch);
        for (name, value) in &mut fields {
            if name == "ProcessingMode" {
                *value = b"Batch".to_vec();
            }
        }
        let error = read_request(&fields).unwrap_err();
        assert_eq!(error.code(), "ProcessingModeIllegal");
        assert!(error.to_string().contains("mailbox"), "{error}");

        let claim = CoreRequest { payload_type: "X12_837_Request_005010X222A1".into(), ..request() };
        assert_eq!(read_request(&fields_of(&claim)).unwrap_err().code(), "PayloadTypeIllegal");
        let old = CoreRequest { rule_version: "1.1.0".into(), ..request() };
        assert_eq!(read_request(&fields_of(&old)).unwrap_err().code(), "VersionMismatch");
        let when = CoreRequest { timestamp: "yesterday".into(), ..request() };
        assert_eq!(read_request(&fields_of(&when)).unwrap_err().code(), "TimeStampIllegal");
        let empty = CoreRequest { payload: b"\r\n".to_vec(), ..request() };
        assert_eq!(read_request(&fields_of(&empty)).unwrap_err().code(), "PayloadRequired");
    }

    #[test]
    fn a_response_swaps_sender_and_receiver_and_keeps_the_payload_id() {
        let request = request();
        let response = success_response(&request, response_payload_type("278"), b"ISA*answer~".to_vec());
        let (body, boundary) = write_response(&response);
        let fields = parse_multipart(&body, &boundary).unwrap();
        let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("PayloadType"), PAYLOAD_278_RESPONSE.as_bytes());
        assert_eq!(get("ProcessingMode"), b"RealTime");
        assert_eq!(get("PayloadID"), request.payload_id.as_bytes());
        assert_eq!(get("SenderID"), b"UMGATE");
        assert_eq!(get("ReceiverID"), b"CLEARINGHOUSE");
        assert_eq!(get("Payload"), b"ISA*answer~");
        assert_eq!(get("ErrorCode"), b"Success");
        assert!(boundary.len() <= 70, "RFC 2046: {boundary}");
        let error = error_response(&fields_of(&request), &EnvelopeError::Required("SenderID"));
        assert_eq!((error.error_code.as_str(), error.payload.is_none()), ("SenderIDRequired", true));
    }

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("Multipart/Form-Data; charset=utf-8; Boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/edi-x12"), None);
        assert_eq!(parse_multipart(b"no parts here", "abc"), None);
        // Truncated bodies are not an error of the parser: what is complete is returned or none.
        assert!(parse_multipart(b"--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue", "abc").is_none());
        assert_eq!(response_payload_type("TA1"), PAYLOAD_TA1_RESPONSE);
        assert_eq!(response_payload_type("999"), PAYLOAD_999_RESPONSE);
        assert_eq!(response_payload_type("271"), PAYLOAD_271_RESPONSE);
    }
}
