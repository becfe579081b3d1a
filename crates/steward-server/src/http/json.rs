//! A JSON body extractor whose rejections speak the API's error format.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but malformed, mistyped, oversized or non-JSON bodies get
/// `malformed_request` / `payload_too_large` / `unsupported_media_type`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(map_rejection(&rejection)),
        }
    }
}

fn map_rejection(r: &JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMedia,
        _ => {
            let detail = match r {
                JsonRejection::JsonDataError(e) => {
                    format!("The body has the wrong shape: {}", e.body_text())
                }
                JsonRejection::JsonSyntaxError(_) => "The body is not valid JSON.".to_owned(),
                other => other.body_text(),
            };
            ApiError::Malformed(sanitize(&detail))
        }
    }
}

/// Keeps the serde message (which names the field) but caps its length.
fn sanitize(s: &str) -> String {
    s.chars().take(300).collect()
}
