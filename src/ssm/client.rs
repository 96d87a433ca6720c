//! The SSM calls ampsecret makes, shaped exactly like Amplify's own client
//! (`@aws-amplify/backend-secret`), each retried and, for writes, paced by the governor.

use super::governor::{self, Failure, Governor};
use crate::cli::AwsArgs;
use crate::secret::SecretValue;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType, ResourceTypeForTagging, Tag};
use serde::Serialize;
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

    fn interrupted() -> CallError {
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
    /// directly). The SDK's own account is logged at -vv, never for a call that carried a
    /// value.
    fn from_sdk<E, R>(call: &Call<'_>, error: &SdkError<E, R>) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + HasStatus + 'static,
    {
        let carries_values = CARRIES_VALUES.contains(&call.operation);
        if !carries_values {
            tracing::debug!(
                "{} failed: {}",
                call.operation,
                one_line(&aws_sdk_ssm::error::DisplayErrorContext(error).to_string())
            );
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
struct Call<'a> {
    operation: &'static str,
    /// The parameter or path the call named.
    resource: &'a str,
    endpoint: &'a str,
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
fn no_credentials() -> String {
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

/// One past (or the current) version of a parameter, as `GetParameterHistory` lists it: the
/// value is only kept as its digest.
#[derive(Debug, Clone)]
pub struct RemoteVersion {
    pub version: i64,
    /// Unix seconds.
    pub modified: Option<u64>,
    /// `LastModifiedUser`: the IAM ARN that wrote it.
    pub user: Option<String>,
    /// SHA-256 of the value.
    pub digest: [u8; 32],
}

/// Where calls go: the Region, the endpoint, and the account once an ARN SSM returned
/// showed it (no STS call is made just to learn it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Target {
    pub region: String,
    pub account: Option<String>,
    pub endpoint: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region {}, ", self.region)?;
        match &self.account {
            Some(account) => write!(f, "account {account}, ")?,
            None => f.write_str("account unknown, ")?,
        }
        write!(f, "endpoint {}", self.endpoint)
    }
}

/// How long to wait for SSM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// Sync commands: SSM's throttling and hiccups are waited out.
    Normal,
    /// `doctor`: a dead endpoint is named within seconds.
    Quick,
}

impl Patience {
    fn connect_timeout(self) -> Duration {
        match self {
            Patience::Normal => Duration::from_secs(5),
            Patience::Quick => Duration::from_secs(2),
        }
    }

    fn attempt_timeout(self) -> Duration {
        match self {
            Patience::Normal => Duration::from_secs(30),
            Patience::Quick => Duration::from_secs(4),
        }
    }

    fn max_attempts(self, failure: Failure) -> u32 {
        match self {
            Patience::Normal => governor::max_attempts(failure),
            Patience::Quick => governor::max_attempts(failure).min(2),
        }
    }
}

/// The standard credential chain (environment, profile with SSO and credential_process,
/// web identity, container, instance metadata), with an instance-metadata client that gives
/// up at once: off EC2 nothing answers there, and the SDK's default patience (several
/// attempts of a second each) kept a command without credentials waiting for seconds.
async fn credentials_chain(
    aws: &AwsArgs,
) -> aws_config::default_provider::credentials::DefaultCredentialsChain {
    let imds = aws_config::imds::Client::builder()
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build();
    let mut chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .imds_client(imds);
    if let Some(profile) = &aws.profile {
        chain = chain.profile_name(profile);
    }
    if let Some(region) = &aws.region {
        chain = chain.region(aws_config::Region::new(region.clone()));
    }
    chain.build().await
}

/// The endpoint URL the client will call, resolved as the SDK resolves it: an
/// `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL` / profile `endpoint_url` override, else
/// SSM's regional endpoint (FIPS and dual-stack settings included).
async fn resolve_endpoint(shared: &aws_config::SdkConfig, region: &str) -> String {
    use aws_sdk_ssm::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("SSM")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field is set");
    let configured = shared
        .service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| shared.endpoint_url().map(str::to_owned));
    let params = Params::builder()
        .region(region)
        .set_use_fips(shared.use_fips())
        .set_use_dual_stack(shared.use_dual_stack())
        .set_endpoint(configured.clone())
        .build();
    let resolved = match params {
        Ok(params) => DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .ok()
            .map(|e| e.url().to_owned()),
        Err(_) => None,
    };
    resolved
        .or(configured)
        .unwrap_or_else(|| format!("https://ssm.{region}.amazonaws.com"))
}

/// Which provider of the chain supplied `credentials`, in words. `Credentials` has no
/// accessor for it; its `Debug` form names it first (and redacts the secret key).
fn provider_name(credentials: &aws_sdk_ssm::config::Credentials) -> String {
    let debug = format!("{credentials:?}");
    let name = debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown");
    match name {
        "Environment" | "EnvironmentVariable" => "environment variables".into(),
        "ProfileFile" => "a profile's keys".into(),
        "SSO" | "SsoCredentialsProvider" => "SSO".into(),
        "CredentialProcess" => "credential_process".into(),
        "WebIdentityToken" => "web identity token".into(),
        "AssumeRoleProvider" => "an assumed role".into(),
        "ECS" | "EcsContainer" => "the container's credentials".into(),
        "IMDSv2" | "Ec2InstanceMetadata" => "EC2 instance metadata".into(),
        other => other.to_owned(),
    }
}

/// The SSM client with call accounting.
#[derive(Debug)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    patience: Patience,
    region: String,
    endpoint: String,
    /// The account, from the first ARN SSM returned.
    account: Mutex<Option<String>>,
    credentials: aws_sdk_ssm::config::SharedCredentialsProvider,
}

impl Ssm {
    /// Loads configuration from the standard chain: flags, environment (including
    /// `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`), profiles, SSO, credential processes.
    /// The SDK's own retries are off: the governor retries, so it sees every throttle.
    pub async fn connect(aws: &AwsArgs, patience: Patience) -> Result<Ssm, String> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = &aws.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &aws.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        loader = loader.credentials_provider(credentials_chain(aws).await);
        let shared = loader.load().await;
        let Some(region) = shared.region().map(ToString::to_string) else {
            return Err(
                "no AWS region: pass --region, set AWS_REGION, or set a region in your AWS profile"
                    .into(),
            );
        };
        let Some(credentials) = shared.credentials_provider() else {
            return Err(no_credentials());
        };
        let config = aws_sdk_ssm::config::Builder::from(&shared)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(patience.connect_timeout())
                    .operation_attempt_timeout(patience.attempt_timeout())
                    .build(),
            )
            .build();
        let endpoint = resolve_endpoint(&shared, &region).await;
        tracing::info!("SSM: region {region}, endpoint {endpoint}");
        Ok(Ssm {
            client: aws_sdk_ssm::Client::from_conf(config),
            calls: Mutex::new(BTreeMap::new()),
            patience,
            region,
            endpoint,
            account: Mutex::new(None),
            credentials,
        })
    }

    /// Where calls go (the account once known).
    pub fn target(&self) -> Target {
        Target {
            region: self.region.clone(),
            account: self.account.lock().expect("account lock").clone(),
            endpoint: self.endpoint.clone(),
        }
    }

    /// Notes the account of a parameter ARN (`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/…`).
    fn learn_account(&self, arn: Option<&str>) {
        let Some(account) = arn
            .and_then(|a| a.split(':').nth(4))
            .filter(|a| !a.is_empty())
        else {
            return;
        };
        let mut known = self.account.lock().expect("account lock");
        if known.is_none() {
            tracing::info!("SSM account {account}");
            *known = Some(account.to_owned());
        }
    }

    /// Loads credentials once, for `doctor`: which provider supplied them, or why none did.
    pub async fn credential_source(&self) -> Result<String, String> {
        use aws_sdk_ssm::config::ProvideCredentials;
        match self.credentials.provide_credentials().await {
            Ok(credentials) => Ok(provider_name(&credentials)),
            Err(error) => {
                tracing::debug!(
                    "loading credentials failed: {}",
                    one_line(&aws_sdk_ssm::error::DisplayErrorContext(&error).to_string())
                );
                Err(CREDENTIALS_FIX.into())
            }
        }
    }

    /// API calls made so far, by operation.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().expect("calls lock").clone()
    }

    /// Runs one call with retries; writes pass a governor that paces them. `resource` is
    /// the parameter or path the call names, for the error.
    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        governor: Option<&Governor>,
        send: F,
    ) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, aws_sdk_ssm::config::http::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let context = Call {
            operation,
            resource,
            endpoint: &self.endpoint,
        };
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
                Err(e) => CallError::from_sdk(&context, &e),
            };
            attempt += 1;
            tracing::debug!("{operation} attempt {attempt} failed: {error}");
            if attempt >= self.patience.max_attempts(error.failure) {
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

    /// Reads every page of a paged call: `fetch` sends the request with a page's token,
    /// `each` sees each page and says whether to go on. Pages may be empty and still carry
    /// a token. `Ok` holds whether every page was read.
    async fn paged<T, E, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        fetch: F,
        next_token: impl Fn(&T) -> Option<&str>,
        mut each: impl FnMut(&T) -> bool,
    ) -> Result<bool, CallError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, aws_sdk_ssm::config::http::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut token: Option<String> = None;
        loop {
            let page = self
                .call(operation, resource, None, || fetch(token.clone()))
                .await?;
            let go_on = each(&page);
            match next_token(&page) {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(true),
            }
            if !go_on {
                return Ok(false);
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
        self.paged(
            "GetParametersByPath",
            prefix,
            |token| {
                self.client
                    .get_parameters_by_path()
                    .path(prefix)
                    .recursive(false)
                    .with_decryption(true)
                    .max_results(BATCH_LIMIT as i32)
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token(),
            |page| {
                for parameter in page.parameters() {
                    self.learn_account(parameter.arn());
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
                true
            },
        )
        .await?;
        Ok(parameters)
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
            .call("PutParameter", name, Some(governor), || {
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
                .call("GetParameters", &batch.join(", "), None, || {
                    self.client
                        .get_parameters()
                        .set_names(Some(batch.to_vec()))
                        .with_decryption(decrypt)
                        .send()
                })
                .await?;
            for parameter in output.parameters() {
                self.learn_account(parameter.arn());
            }
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
        self.call(
            "DeleteParameters",
            &names.join(", "),
            Some(governor),
            || {
                self.client
                    .delete_parameters()
                    .set_names(Some(names.to_vec()))
                    .send()
            },
        )
        .await
        .map(drop)
    }

    /// Every version SSM keeps of `name` (`GetParameterHistory`, decrypted so each value's
    /// digest can be matched; values are dropped at once), newest first. A parameter SSM
    /// does not have has no versions.
    pub async fn history(&self, name: &str) -> Result<Vec<RemoteVersion>, CallError> {
        let mut versions = Vec::new();
        let read = self
            .paged(
                "GetParameterHistory",
                name,
                |token| {
                    self.client
                        .get_parameter_history()
                        .name(name)
                        .with_decryption(true)
                        .max_results(50)
                        .set_next_token(token)
                        .send()
                },
                |page| page.next_token(),
                |page| {
                    for entry in page.parameters() {
                        let Some(value) = entry.value() else {
                            continue;
                        };
                        versions.push(RemoteVersion {
                            version: entry.version(),
                            modified: entry
                                .last_modified_date()
                                .and_then(|d| u64::try_from(d.secs()).ok()),
                            user: entry.last_modified_user().map(str::to_owned),
                            digest: SecretValue::new(value.to_owned()).digest(),
                        });
                    }
                    true
                },
            )
            .await;
        match read {
            Err(e) if e.code.as_deref() == Some("ParameterNotFound") => return Ok(Vec::new()),
            read => read?,
        };
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(versions)
    }

    /// The value `name` had at `version` (`GetParameter` of `name:version`, decrypted).
    pub async fn read_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<RemoteParameter, CallError> {
        let selector = format!("{name}:{version}");
        let output = self
            .call("GetParameter", &selector, None, || {
                self.client
                    .get_parameter()
                    .name(&selector)
                    .with_decryption(true)
                    .send()
            })
            .await?;
        let parameter = output.parameter();
        self.learn_account(parameter.and_then(|p| p.arn()));
        match parameter.and_then(|p| Some((p.value()?, p.version()))) {
            Some((value, version)) => Ok(RemoteParameter {
                value: SecretValue::new(value.to_owned()),
                version,
            }),
            None => Err(CallError {
                failure: Failure::Permanent,
                code: None,
                message: format!("SSM returned no value for {selector}"),
                explained: false,
            }),
        }
    }

    /// The tags on parameter `name` (`ListTagsForResource`, paced by `governor`).
    pub async fn tags(
        &self,
        governor: &Governor,
        name: &str,
    ) -> Result<BTreeMap<String, String>, CallError> {
        let output = self
            .call("ListTagsForResource", name, Some(governor), || {
                self.client
                    .list_tags_for_resource()
                    .resource_type(ResourceTypeForTagging::Parameter)
                    .resource_id(name)
                    .send()
            })
            .await?;
        Ok(output
            .tag_list()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect())
    }

    /// Adds or overwrites `tags` on parameter `name` (`AddTagsToResource`): no new value
    /// version is written. Paced by the governor like every write.
    pub async fn add_tags(
        &self,
        governor: &Governor,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CallError> {
        let tags: Vec<Tag> = tags
            .iter()
            .filter_map(|(key, value)| Tag::builder().key(key).value(value).build().ok())
            .collect();
        self.call("AddTagsToResource", name, Some(governor), || {
            self.client
                .add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
        .map(drop)
    }

    /// Whether at least one parameter can be read (and decrypted) under `prefix`: one
    /// non-recursive `GetParametersByPath` of one result. `Ok` holds whether it had any.
    pub async fn probe_read(&self, prefix: &str) -> Result<bool, CallError> {
        let page = self
            .call("GetParametersByPath", prefix, None, || {
                self.client
                    .get_parameters_by_path()
                    .path(prefix)
                    .recursive(false)
                    .with_decryption(true)
                    .max_results(1)
                    .send()
            })
            .await?;
        for parameter in page.parameters() {
            self.learn_account(parameter.arn());
        }
        Ok(!page.parameters().is_empty())
    }

    /// The value of an SSM service setting (`GetServiceSetting`).
    pub async fn service_setting(&self, id: &str) -> Result<Option<String>, CallError> {
        let output = self
            .call("GetServiceSetting", id, None, || {
                self.client.get_service_setting().setting_id(id).send()
            })
            .await?;
        Ok(output
            .service_setting()
            .and_then(|s| s.setting_value())
            .map(str::to_owned))
    }

    /// How many Standard-tier parameters the account has in this Region
    /// (`DescribeParameters`, 50 a page), counting until `deadline`: `Ok((count, complete))`.
    pub async fn count_standard(&self, deadline: Instant) -> Result<(u64, bool), CallError> {
        let mut count = 0;
        let complete = self
            .paged(
                "DescribeParameters",
                "the account",
                |token| {
                    self.client
                        .describe_parameters()
                        .max_results(50)
                        .set_next_token(token)
                        .send()
                },
                |page| page.next_token(),
                |page| {
                    count += page
                        .parameters()
                        .iter()
                        .filter(|p| p.tier().is_none_or(|t| *t == ParameterTier::Standard))
                        .count() as u64;
                    Instant::now() < deadline
                },
            )
            .await?;
        Ok((count, complete))
    }

    /// The KMS keys of the parameters directly under `prefix` (`DescribeParameters`).
    pub async fn key_ids(&self, prefix: &str) -> Result<Vec<String>, CallError> {
        let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
            .key("Path")
            .option("OneLevel")
            .values(prefix)
            .build()
            .map_err(|e| CallError {
                failure: Failure::Permanent,
                code: None,
                message: e.to_string(),
                explained: false,
            })?;
        let mut keys = Vec::new();
        self.paged(
            "DescribeParameters",
            prefix,
            |token| {
                self.client
                    .describe_parameters()
                    .parameter_filters(filter.clone())
                    .max_results(50)
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token(),
            |page| {
                keys.extend(
                    page.parameters()
                        .iter()
                        .filter_map(|p| p.key_id().map(str::to_owned)),
                );
                true
            },
        )
        .await?;
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}
