//! Talking to the SSM emulator from tests: the environment that points ampsecret at it, and a
//! direct SDK client to seed and inspect parameters.

use aws_sdk_ssm::types::{Parameter, ParameterMetadata, ParameterStringFilter, ParameterType};

/// A unique app id per test, so tests can share one SSM server.
pub fn unique_app_id() -> String {
    format!("d{}", hex_id())
}

fn hex_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("{:08x}{:04x}", std::process::id(), n)
}

/// The environment that points an `ampsecret` process at the SSM endpoint `endpoint` with fake
/// credentials, so the metadata service is never probed.
pub fn client_env(endpoint: &str) -> [(&'static str, String); 5] {
    [
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL_SSM", endpoint.into()),
    ]
}

/// A direct SDK client, for arranging and checking what SSM holds.
pub struct Ssm {
    runtime: tokio::runtime::Runtime,
    pub client: aws_sdk_ssm::Client,
}

impl Ssm {
    pub fn new(endpoint: &str) -> Ssm {
        let config = aws_sdk_ssm::config::Builder::new()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(endpoint)
            .build();
        Ssm {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: aws_sdk_ssm::Client::from_conf(config),
        }
    }

    pub fn put(&self, name: &str, value: &str) -> i64 {
        self.runtime
            .block_on(
                self.client
                    .put_parameter()
                    .name(name)
                    .value(value)
                    .r#type(ParameterType::SecureString)
                    .overwrite(true)
                    .send(),
            )
            .unwrap()
            .version()
    }

    /// Deletes a parameter (as someone working in the AWS console would).
    pub fn delete(&self, name: &str) {
        self.runtime
            .block_on(self.client.delete_parameter().name(name).send())
            .unwrap();
    }

    /// The parameter, decrypted, or `None`.
    pub fn get(&self, name: &str) -> Option<Parameter> {
        let out = self.runtime.block_on(
            self.client
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send(),
        );
        out.ok().and_then(|o| o.parameter().cloned())
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|p| p.value().map(str::to_owned))
    }

    /// The tags on a parameter, by key.
    pub fn tags(&self, name: &str) -> std::collections::BTreeMap<String, String> {
        let out = self
            .runtime
            .block_on(
                self.client
                    .list_tags_for_resource()
                    .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                    .resource_id(name)
                    .send(),
            )
            .unwrap();
        out.tag_list()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }

    /// Every version SSM keeps of a parameter, oldest first, with its value.
    pub fn history(&self, name: &str) -> Vec<(i64, String)> {
        let out = self
            .runtime
            .block_on(
                self.client
                    .get_parameter_history()
                    .name(name)
                    .with_decryption(true)
                    .send(),
            )
            .unwrap();
        let mut versions: Vec<(i64, String)> = out
            .parameters()
            .iter()
            .map(|p| (p.version(), p.value().unwrap_or_default().to_owned()))
            .collect();
        versions.sort();
        versions
    }

    /// Metadata (type, description, tier, key) of one parameter.
    pub fn describe(&self, name: &str) -> ParameterMetadata {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .unwrap();
        let out = self
            .runtime
            .block_on(
                self.client
                    .describe_parameters()
                    .parameter_filters(filter)
                    .send(),
            )
            .unwrap();
        out.parameters()
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("no parameter {name}"))
    }

    /// Deletes every parameter under `path`. For a test that writes where the app id plays
    /// no part (a sandbox, a standalone deployment, a named shared namespace): a shared server
    /// may still hold what an earlier run wrote there.
    pub fn clear(&self, path: &str) {
        // DeleteParameters takes at most 10 names a call.
        for batch in self.names_under(path).chunks(10) {
            self.runtime
                .block_on(
                    self.client
                        .delete_parameters()
                        .set_names(Some(batch.to_vec()))
                        .send(),
                )
                .unwrap();
        }
    }

    /// Every parameter name under `path`, recursively, sorted.
    pub fn names_under(&self, path: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .runtime
                .block_on(
                    self.client
                        .get_parameters_by_path()
                        .path(path)
                        .recursive(true)
                        .set_next_token(token)
                        .send(),
                )
                .unwrap();
            names.extend(
                out.parameters()
                    .iter()
                    .filter_map(|p| p.name().map(str::to_owned)),
            );
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        names.sort();
        names
    }
}
