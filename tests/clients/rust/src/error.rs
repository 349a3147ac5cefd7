//! Why a call failed: the transport, or the server's GraphQL errors with their codes.

use graphql_client::Response;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with errors; `code` is the first one's `extensions.code`.
    #[error("the server refused the operation ({code:?}): {message}")]
    Refused {
        code: Option<String>,
        message: String,
    },
    #[error("the server answered with neither data nor errors")]
    NoData,
}

impl ClientError {
    /// The first error's code, when the server refused the operation.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => code.as_deref(),
            Self::Http(_) | Self::NoData => None,
        }
    }

    /// The data of a response without errors, or the first error.
    pub(crate) fn check<T>(response: Response<T>) -> Result<T, Self> {
        if let Some(first) = response.errors.as_ref().and_then(|errors| errors.first()) {
            let code = first
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("code"))
                .and_then(|code| code.as_str())
                .map(str::to_owned);
            return Err(Self::Refused {
                code,
                message: first.message.clone(),
            });
        }
        response.data.ok_or(Self::NoData)
    }
}
