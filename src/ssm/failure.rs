//! A failed SSM call in one line that says what failed and what to do: no credentials,
//! access denied (naming the action and the parameter), an endpoint that does not answer,
//! else SSM's own short message. Never a value: a response to a call that carried one can
//! echo it, so only its code is kept. The SDK's own account is logged at -vv.

use super::governor::{self, Failure};
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use std::fmt;

/// A failed call, after retries: what SSM (or the network) said, without any value.
#[derive(Debug, Clone)]
pub struct CallError {
    pub failure: Failure,
    pub code: Option<String>,
    pub message: String,
    /// The message names the cause in ampsecret's words (no credentials, access denied, an
    /// unreachable endpoint): shown without the code.
    pub explained: bool,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            _ if self.explained => f.write_str(&self.message),
            Some(code) if self.message.is_empty() => f.write_str(code),
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Operations whose request carries a secret value. What comes back when they fail can
/// echo the request (AWS's own "Value '…' failed to satisfy constraint", a proxy's error
/// page), so only the error code is kept and the message is ampsecret's own.
const CARRIES_VALUES: &[&str] = &["PutParameter"];
/// Longest message kept from a remote error; anything longer is a body, not a message.
const MAX_REMOTE_MESSAGE: usize = 200;

impl CallError {
    /// The code of a write that was not sent because the run was interrupted.
    pub const INTERRUPTED: &'static str = "Interrupted";

    pub(super) fn interrupted() -> CallError {
        CallError {
            failure: Failure::Permanent,
            code: Some(Self::INTERRUPTED.into()),
            message: "not sent: the run was interrupted".into(),
            explained: false,
        }
    }

    /// The code of a call that could not be signed: no usable credentials.
    pub const NO_CREDENTIALS: &'static str = "NoCredentials";

    /// The code of a call whose endpoint did not answer.
    pub const UNREACHABLE: &'static str = "EndpointUnreachable";

    /// Whether the endpoint did not answer at all (no connection, or no response in time).
    pub fn is_unreachable(&self) -> bool {
        self.code.as_deref() == Some(Self::UNREACHABLE)
    }

    /// Whether SSM (or IAM) refused the caller the call.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("AccessDeniedException" | "AccessDenied")
        )
    }

    /// Whether the call was never sent because the run was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.code.as_deref() == Some(Self::INTERRUPTED)
    }

    /// Builds the error from the SDK's metadata: the code, and a short one-line message in
    /// ampsecret's words where the cause is known (no credentials, access denied, an
    /// endpoint that does not answer). The response body is never passed on: for a call that
    /// carried a value the message is rebuilt from the code and HTTP status, and for others
    /// SSM's message is kept only when it is short, single-line text (the SDK's `Display`
    /// drops the message of unmodeled errors such as ThrottlingException, so it is read
    /// directly). At -vv the SDK's own account is logged only for a call that got no
    /// response (the connection's story); of a response only the code and HTTP status are,
    /// since a body can hold the values a read returned or a write sent.
    pub(super) fn from_sdk<E, R>(call: &Call<'_>, error: &SdkError<E, R>) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + HasStatus + 'static,
    {
        let carries_values = CARRIES_VALUES.contains(&call.operation);
        match error {
            SdkError::ServiceError(e) => tracing::debug!(
                "{} failed: service error {} (HTTP {})",
                call.operation,
                error.code().unwrap_or("without a code"),
                e.raw().status_code()
            ),
            SdkError::ResponseError(e) => tracing::debug!(
                "{} failed: unreadable response (HTTP {})",
                call.operation,
                e.raw().status_code()
            ),
            _ => tracing::debug!(
                "{} failed: {}",
                call.operation,
                one_line(&aws_sdk_ssm::error::DisplayErrorContext(error).to_string())
            ),
        }
        if let Some(credentials) = credentials_error(error) {
            return CallError {
                failure: Failure::Permanent,
                code: Some(Self::NO_CREDENTIALS.into()),
                message: credentials,
                explained: true,
            };
        }
        let code = error.code().map(str::to_owned);
        let (status, no_response) = match error {
            SdkError::ServiceError(e) => (Some(e.raw().status_code()), false),
            // A response that could not be read (cut short, or not SSM's at all: a proxy's
            // error page) is worth another attempt.
            SdkError::ResponseError(e) => (Some(e.raw().status_code()), true),
            // A dropped connection is reported as an "other" connector error, not I/O: only
            // errors in the request itself (user errors) are not worth another attempt.
            SdkError::DispatchFailure(e) => (None, !e.is_user()),
            SdkError::TimeoutError(_) => (None, true),
            _ => (None, false),
        };
        let failure = governor::classify(code.as_deref(), status, no_response);
        if let Some(message) = code.as_deref().and_then(|c| refusal(c, call)) {
            return CallError {
                failure,
                code,
                message,
                explained: true,
            };
        }
        // A connection that failed or timed out carries no response, only the client's own
        // account of it: the endpoint did not answer.
        if matches!(
            error,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
        ) {
            return CallError {
                failure,
                code: Some(Self::UNREACHABLE.into()),
                message: format!(
                    "endpoint unreachable: {} ({}); check the network, --region or AWS_ENDPOINT_URL_SSM",
                    call.endpoint,
                    unreachable_reason(error)
                ),
                explained: true,
            };
        }
        let remote_message = error
            .message()
            .filter(|_| !carries_values)
            .map(one_line)
            .filter(|m| m.len() <= MAX_REMOTE_MESSAGE && !m.contains('<'));
        let message = remote_message
            .unwrap_or_else(|| describe(failure, status, no_response, code.is_some()));
        CallError {
            failure,
            code,
            message,
            explained: false,
        }
    }
}

/// What one call was: its operation, what it named, and where it went.
pub(super) struct Call<'a> {
    pub operation: &'static str,
    /// The parameter or path the call named.
    pub resource: &'a str,
    pub endpoint: &'a str,
}

/// ampsecret's words for a refusal whose cause the code tells: who lacks which permission,
/// or credentials AWS does not accept.
fn refusal(code: &str, call: &Call<'_>) -> Option<String> {
    let operation = call.operation;
    let resource = call.resource;
    match code {
        "AccessDeniedException" | "AccessDenied" => Some(format!(
            "AccessDenied on ssm:{operation} for {resource}: the role or user needs ssm:{operation} on it{}",
            if DECRYPTS.contains(&operation) {
                " (and kms:Decrypt on the parameters' key)"
            } else {
                ""
            }
        )),
        "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" => {
            Some(format!(
                "AWS does not accept these credentials ({code}): check AWS_PROFILE and the keys, or run 'aws sso login'"
            ))
        }
        "ExpiredTokenException" | "ExpiredToken" => Some(
            "the AWS session has expired: run 'aws sso login' or refresh the credentials".into(),
        ),
        _ => None,
    }
}

/// Operations that read decrypted values: a refusal may be KMS's.
const DECRYPTS: &[&str] = &[
    "GetParametersByPath",
    "GetParameters",
    "GetParameter",
    "GetParameterHistory",
];

/// The error sources of `error`, outermost first.
fn sources<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// When the call failed because no credentials could be loaded: what to do about it.
fn credentials_error<E, R>(error: &SdkError<E, R>) -> Option<String>
where
    E: std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    use aws_credential_types::provider::error::CredentialsError;
    let SdkError::DispatchFailure(_) = error else {
        return None;
    };
    let found = sources(error).find_map(|e| e.downcast_ref::<CredentialsError>())?;
    Some(match found {
        CredentialsError::ProviderTimedOut(_) => "loading AWS credentials timed out: check the profile's SSO or credential_process setup, or run 'aws sso login'".into(),
        CredentialsError::InvalidConfiguration(_) => "the AWS profile's credential settings are invalid: check ~/.aws/config and ~/.aws/credentials (-vv shows the SDK's detail)".into(),
        // Nothing found, an expired SSO session, an instance-metadata service that refused:
        // the fixes are the same.
        _ => no_credentials(),
    })
}

/// What to do when no credentials could be loaded.
pub const CREDENTIALS_FIX: &str =
    "run 'aws sso login', set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
/// The error a command shows when no credentials could be loaded.
pub(super) fn no_credentials() -> String {
    format!("no usable AWS credentials: {CREDENTIALS_FIX} ('ampsecret doctor' checks the setup)")
}

/// Why a connection failed, in a few words (the I/O error's kind when there is one).
fn unreachable_reason<E, R>(error: &SdkError<E, R>) -> &'static str
where
    E: std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    if matches!(error, SdkError::TimeoutError(_)) {
        return "timed out";
    }
    let io = sources(error).find_map(|e| e.downcast_ref::<std::io::Error>());
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused",
        Some(std::io::ErrorKind::TimedOut) => "timed out",
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            "connection dropped"
        }
        _ => match error {
            SdkError::DispatchFailure(e) if e.is_timeout() => "timed out",
            SdkError::DispatchFailure(e) if e.is_io() => "no connection",
            _ => "no answer",
        },
    }
}

pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ampsecret's own words for a failed call, from what is known without the response body.
fn describe(failure: Failure, status: Option<u16>, no_response: bool, has_code: bool) -> String {
    let status = status.map_or(String::new(), |s| format!(" (HTTP {s})"));
    match failure {
        Failure::Throttled => format!("SSM asked to slow down{status}"),
        Failure::Transient if status.is_empty() && no_response => {
            "no answer from SSM (connection dropped or timed out)".into()
        }
        Failure::Transient => format!("SSM failed to answer{status}"),
        Failure::Permanent if has_code => format!("SSM refused the request{status}"),
        Failure::Permanent => format!("the request to SSM failed{status}"),
    }
}

/// The HTTP status of a raw response, for classification.
pub(super) trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_ssm::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(operation: &'static str) -> Call<'static> {
        Call {
            operation,
            resource: "/amplify/app/main-branch-1/K",
            endpoint: "https://ssm.eu-west-1.amazonaws.com",
        }
    }

    #[test]
    fn refusals_name_the_action_and_the_parameter() {
        assert_eq!(
            refusal("AccessDeniedException", &call("PutParameter")).unwrap(),
            "AccessDenied on ssm:PutParameter for /amplify/app/main-branch-1/K: the role or user needs ssm:PutParameter on it"
        );
        assert!(
            refusal("AccessDeniedException", &call("GetParametersByPath"))
                .unwrap()
                .ends_with("(and kms:Decrypt on the parameters' key)")
        );
        assert!(
            refusal("ExpiredTokenException", &call("GetParameters"))
                .unwrap()
                .contains("aws sso login")
        );
        assert_eq!(refusal("ValidationException", &call("PutParameter")), None);
    }

    #[test]
    fn an_explained_error_shows_without_its_code() {
        let explained = CallError {
            failure: Failure::Permanent,
            code: Some(CallError::UNREACHABLE.into()),
            message: "endpoint unreachable: x".into(),
            explained: true,
        };
        assert_eq!(explained.to_string(), "endpoint unreachable: x");
        assert!(explained.is_unreachable() && !explained.is_access_denied());
        let plain = CallError {
            explained: false,
            code: Some("ValidationException".into()),
            ..explained
        };
        assert_eq!(
            plain.to_string(),
            "ValidationException: endpoint unreachable: x"
        );
    }
}
