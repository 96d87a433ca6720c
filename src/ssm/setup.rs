//! How the SSM client is set up: the credential chain, the endpoint it resolves to, how
//! long it waits ([`Patience`]), and where its calls go ([`Target`]).

use super::governor::{self, Failure};
use crate::cli::AwsArgs;
use serde::Serialize;
use std::fmt;
use std::time::Duration;

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
    pub(super) fn connect_timeout(self) -> Duration {
        match self {
            Patience::Normal => Duration::from_secs(5),
            Patience::Quick => Duration::from_secs(2),
        }
    }

    pub(super) fn attempt_timeout(self) -> Duration {
        match self {
            Patience::Normal => Duration::from_secs(30),
            Patience::Quick => Duration::from_secs(4),
        }
    }

    pub(super) fn max_attempts(self, failure: Failure) -> u32 {
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
pub(super) async fn credentials_chain(
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
pub(super) async fn resolve_endpoint(shared: &aws_config::SdkConfig, region: &str) -> String {
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
pub(super) fn provider_name(credentials: &aws_sdk_ssm::config::Credentials) -> String {
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
