//! The SSM calls ampsecret makes, shaped exactly like Amplify's own client
//! (`@aws-amplify/backend-secret`), each retried and, for writes, paced by the governor.

use super::governor::{self, Failure, Governor};
use crate::cli::AwsArgs;
use crate::secret::SecretValue;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Amplify's description on every secret it writes.
pub const AMPLIFY_DESCRIPTION: &str = "Amplify Secret";
/// SSM's limit on names per GetParameters / DeleteParameters call.
pub const BATCH_LIMIT: usize = 10;

/// A failed call, after retries: what SSM (or the network) said, without any value.
#[derive(Debug, Clone)]
pub struct CallError {
    pub failure: Failure,
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
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

    fn interrupted() -> CallError {
        CallError {
            failure: Failure::Permanent,
            code: Some(Self::INTERRUPTED.into()),
            message: "not sent: the run was interrupted".into(),
        }
    }

    /// Whether the call was never sent because the run was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.code.as_deref() == Some(Self::INTERRUPTED)
    }

    /// Builds the error from the SDK's metadata: the code, and a short one-line message.
    /// The response body is never passed on: for a call that carried a value the message
    /// is rebuilt from the code and HTTP status, and for others SSM's message is kept only
    /// when it is short, single-line text (the SDK's `Display` drops the message of
    /// unmodeled errors such as ThrottlingException, so it is read directly).
    fn from_sdk<E, R>(operation: &str, error: &SdkError<E, R>) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + HasStatus,
    {
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
        let remote_message = error
            .message()
            .filter(|_| !CARRIES_VALUES.contains(&operation))
            .map(one_line)
            .filter(|m| m.len() <= MAX_REMOTE_MESSAGE && !m.contains('<'));
        // A connection that failed or timed out carries no response, only the client's own
        // account of it ("connection refused"), which is worth keeping.
        let connection = matches!(
            error,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
        )
        .then(|| one_line(&aws_sdk_ssm::error::DisplayErrorContext(error).to_string()));
        let message = remote_message
            .or(connection)
            .unwrap_or_else(|| describe(failure, status, no_response, code.is_some()));
        CallError {
            failure,
            code,
            message,
        }
    }
}

fn one_line(text: &str) -> String {
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
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_ssm::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A parameter read from SSM.
#[derive(Debug)]
pub struct RemoteParameter {
    pub value: SecretValue,
    pub version: i64,
}

/// The SSM client with call accounting.
#[derive(Debug)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
    calls: Mutex<BTreeMap<&'static str, u64>>,
}

impl Ssm {
    /// Loads configuration from the standard chain: flags, environment (including
    /// `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`), profiles, SSO, credential processes.
    /// The SDK's own retries are off: the governor retries, so it sees every throttle.
    pub async fn connect(aws: &AwsArgs) -> Result<Ssm, String> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = &aws.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &aws.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let shared = loader.load().await;
        if shared.region().is_none() {
            return Err(
                "no AWS region: pass --region, set AWS_REGION, or set a region in your AWS profile"
                    .into(),
            );
        }
        let config = aws_sdk_ssm::config::Builder::from(&shared)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            )
            .build();
        Ok(Ssm {
            client: aws_sdk_ssm::Client::from_conf(config),
            calls: Mutex::new(BTreeMap::new()),
        })
    }

    /// API calls made so far, by operation.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().expect("calls lock").clone()
    }

    /// Runs one call with retries; writes pass a governor that paces them.
    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        governor: Option<&Governor>,
        send: F,
    ) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, aws_sdk_ssm::config::http::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut attempt = 0;
        loop {
            if let Some(governor) = governor {
                if crate::sys::interrupt::requested() {
                    return Err(CallError::interrupted());
                }
                let slot = governor.reserve(Instant::now());
                tokio::time::sleep_until(slot.into()).await;
                // Interrupted: a write not yet sent is not sent (nor retried).
                if crate::sys::interrupt::requested() {
                    return Err(CallError::interrupted());
                }
            }
            *self
                .calls
                .lock()
                .expect("calls lock")
                .entry(operation)
                .or_default() += 1;
            let error = match send().await {
                Ok(output) => {
                    if let Some(governor) = governor {
                        governor.on_success();
                    }
                    return Ok(output);
                }
                Err(e) => CallError::from_sdk(operation, &e),
            };
            attempt += 1;
            tracing::debug!("{operation} attempt {attempt} failed: {error}");
            if attempt >= governor::max_attempts(error.failure) {
                return Err(error);
            }
            match (error.failure, governor) {
                (Failure::Throttled, Some(governor)) => {
                    governor.on_throttle(Instant::now(), rand::random())
                }
                _ => tokio::time::sleep(governor::backoff(attempt, rand::random())).await,
            }
        }
    }

    /// Every parameter directly under `prefix`, decrypted, by last path segment:
    /// non-recursive `GetParametersByPath`, paged until there is no token (pages may be empty
    /// and still carry one).
    pub async fn read_scope(
        &self,
        prefix: &str,
    ) -> Result<BTreeMap<String, RemoteParameter>, CallError> {
        let mut parameters = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .call("GetParametersByPath", None, || {
                    self.client
                        .get_parameters_by_path()
                        .path(prefix)
                        .recursive(false)
                        .with_decryption(true)
                        .max_results(BATCH_LIMIT as i32)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            for parameter in page.parameters() {
                let (Some(full), Some(value)) = (parameter.name(), parameter.value()) else {
                    continue;
                };
                let name = full.rsplit('/').next().unwrap_or(full);
                if crate::amplify::validate_secret_name(name).is_err() {
                    tracing::warn!("skipping SSM parameter {full}: not a valid secret name");
                    continue;
                }
                parameters.insert(
                    name.to_owned(),
                    RemoteParameter {
                        value: SecretValue::new(value.to_owned()),
                        version: parameter.version(),
                    },
                );
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(parameters),
            }
        }
    }

    /// Writes one secret as Amplify does: SecureString, Overwrite, "Amplify Secret", no KeyId
    /// unless given, no Tier unless given. Returns the new version.
    pub async fn put(
        &self,
        governor: &Governor,
        name: &str,
        value: &SecretValue,
        tier: Option<ParameterTier>,
        kms_key_id: Option<&str>,
    ) -> Result<i64, CallError> {
        let output = self
            .call("PutParameter", Some(governor), || {
                self.client
                    .put_parameter()
                    .name(name)
                    .value(value.expose())
                    .r#type(ParameterType::SecureString)
                    .overwrite(true)
                    .description(AMPLIFY_DESCRIPTION)
                    .set_key_id(kms_key_id.map(str::to_owned))
                    .set_tier(tier.clone())
                    .send()
            })
            .await?;
        Ok(output.version())
    }

    /// Which of `names` (full SSM names) exist: GetParameters in batches of ten, without
    /// decryption (only existence matters; no value is read).
    pub async fn existing(&self, names: &[String]) -> Result<BTreeMap<String, ()>, CallError> {
        let found = self.get_parameters(names, false).await?;
        Ok(found
            .iter()
            .filter_map(|p| Some((p.name()?.to_owned(), ())))
            .collect())
    }

    /// The decrypted values of those of `names` (full SSM names) that exist, by full name:
    /// GetParameters in batches of ten, as Amplify's function runtime reads them.
    pub async fn read_names(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, RemoteParameter>, CallError> {
        let found = self.get_parameters(names, true).await?;
        Ok(found
            .iter()
            .filter_map(|p| {
                let parameter = RemoteParameter {
                    value: SecretValue::new(p.value()?.to_owned()),
                    version: p.version(),
                };
                Some((p.name()?.to_owned(), parameter))
            })
            .collect())
    }

    /// GetParameters over `names` in batches of ten; names SSM does not have are left out.
    async fn get_parameters(
        &self,
        names: &[String],
        decrypt: bool,
    ) -> Result<Vec<aws_sdk_ssm::types::Parameter>, CallError> {
        let mut found = Vec::new();
        for batch in names.chunks(BATCH_LIMIT) {
            let output = self
                .call("GetParameters", None, || {
                    self.client
                        .get_parameters()
                        .set_names(Some(batch.to_vec()))
                        .with_decryption(decrypt)
                        .send()
                })
                .await?;
            found.extend(output.parameters.unwrap_or_default());
        }
        Ok(found)
    }

    /// Deletes up to ten parameters in one call. Names SSM no longer has count as deleted.
    pub async fn delete_batch(
        &self,
        governor: &Governor,
        names: &[String],
    ) -> Result<(), CallError> {
        debug_assert!(names.len() <= BATCH_LIMIT);
        self.call("DeleteParameters", Some(governor), || {
            self.client
                .delete_parameters()
                .set_names(Some(names.to_vec()))
                .send()
        })
        .await
        .map(drop)
    }
}
