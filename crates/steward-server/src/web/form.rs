//! Form bodies whose rejections become the API's error answers.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Form`, with malformed bodies answered as `malformed_request`.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(FormBody(v)),
            Err(r) if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge)
            }
            Err(r) => Err(ApiError::Malformed(
                r.body_text().chars().take(300).collect(),
            )),
        }
    }
}

/// A ticked checkbox arrives as any value; an unticked one is absent.
pub fn ticked(v: Option<&str>) -> bool {
    v.is_some_and(|s| !s.is_empty() && s != "false")
}
