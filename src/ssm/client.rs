//! The SSM calls ampsecret makes, shaped exactly like Amplify's own client
//! (`@aws-amplify/backend-secret`), each retried and, for writes, paced by the governor.

use super::failure::{CREDENTIALS_FIX, Call, CallError, no_credentials, one_line};
use super::governor::{self, Failure, Governor};
use super::setup::{Patience, Target, credentials_chain, provider_name, resolve_endpoint};
use crate::cli::AwsArgs;
use crate::secret::SecretValue;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType, ResourceTypeForTagging, Tag};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

/// Amplify's description on every secret it writes.
pub const AMPLIFY_DESCRIPTION: &str = "Amplify Secret";
/// SSM's limit on names per GetParameters / DeleteParameters call.
pub const BATCH_LIMIT: usize = 10;

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
