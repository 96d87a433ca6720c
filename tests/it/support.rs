//! A small builder for driving the real `ampsecret` binary in an isolated project, in the
//! style of casey/just's integration tests: each test reads as the commands a user types.
//!
//! Every run starts from an empty environment (plus PATH), with HOME and XDG_CONFIG_HOME
//! inside the test's temporary directory and the keyring off, so nothing leaks between
//! tests or from the developer's machine.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const APP_ID: &str = "d1a2b3c4d5e6f7";
pub const BIN: &str = env!("CARGO_BIN_EXE_ampsecret");

/// A temporary Amplify project: package.json `{"name":"my-app"}` and a git HEAD on `main`.
pub struct Project {
    temp: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Project {
    pub fn new() -> Project {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().join("app");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            root.join("package.json"),
            r#"{"name":"my-app","private":true}"#,
        )
        .unwrap();
        std::fs::create_dir_all(temp.path().join("home")).unwrap();
        let mut env = BTreeMap::new();
        env.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
        env.insert(
            "HOME".into(),
            temp.path().join("home").display().to_string(),
        );
        env.insert(
            "XDG_CONFIG_HOME".into(),
            temp.path().join("config").display().to_string(),
        );
        env.insert("AMPSECRET_NO_KEYRING".into(), "1".into());
        env.insert("AMPSECRET_SCRYPT_WORK_FACTOR".into(), "2".into());
        Project { temp, env }
    }

    /// Points every later command at the SSM endpoint `endpoint` with fake credentials.
    pub fn with_ssm(self, endpoint: &str) -> Project {
        ampsecret_testkit::ssm::client_env(endpoint)
            .iter()
            .fold(self, |project, (key, value)| project.env(key, value))
    }

    /// `ampsecret init --app-id APP` on a fresh project wired to the SSM endpoint `endpoint`.
    pub fn with_app(endpoint: &str, app_id: &str) -> Project {
        let project = Project::new().with_ssm(endpoint);
        project.run(&["init", "--app-id", app_id]).success();
        project
    }

    /// `new()` followed by `ampsecret init --app-id APP_ID`.
    pub fn initialized() -> Project {
        let project = Project::new();
        project.run(&["init", "--app-id", APP_ID]).success();
        project
    }

    /// The project root (the command's working directory).
    pub fn root(&self) -> PathBuf {
        self.temp.path().join("app")
    }

    /// The whole temporary tree: project, HOME and config directory.
    pub fn temp(&self) -> &Path {
        self.temp.path()
    }

    pub fn vault_dir(&self) -> PathBuf {
        self.root().join(".ampsecret")
    }

    /// Sets a variable for every later command of this project.
    pub fn env(mut self, key: &str, value: &str) -> Project {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn remove_env(mut self, key: &str) -> Project {
        self.env.remove(key);
        self
    }

    pub fn env_map(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// A command with this project's environment, in its root.
    pub fn cmd(&self, args: &[&str]) -> Run {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .envs(&self.env)
            .current_dir(self.root())
            .args(args);
        Run {
            command,
            stdin: None,
        }
    }

    /// Runs a command with empty stdin.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run()
    }

    /// `ampsecret set NAME --stdin ARGS…` with `value` on stdin; asserts success.
    pub fn set(&self, name: &str, value: &str, args: &[&str]) -> Output {
        let mut all = vec!["set", name, "--stdin"];
        all.extend_from_slice(args);
        self.cmd(&all).stdin(value).run().success()
    }

    /// `ampsecret get NAME ARGS…`; asserts success and returns stdout.
    pub fn get(&self, name: &str, args: &[&str]) -> String {
        let mut all = vec!["get", name];
        all.extend_from_slice(args);
        self.run(&all).success().stdout
    }

    /// The key `init` stored in the identity file (the keyring is off in tests).
    pub fn key(&self) -> ampsecret::vault::Key {
        let ids = self.temp().join("config/ampsecret/identities");
        let file = std::fs::read_dir(&ids)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(file).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .unwrap();
        ampsecret::vault::Key::Identities(vec![line.parse().unwrap()])
    }

    /// Stores many secrets in branch `main` at once through the library: quick set-up for
    /// tests about large vaults.
    pub fn bulk_set(&self, secrets: impl IntoIterator<Item = (String, String)>) {
        let vault = ampsecret::vault::VaultDir::open(&self.vault_dir()).unwrap();
        let scope = ampsecret::scope::ScopeKey::Branch("main".into());
        vault
            .update(&self.key(), |v| {
                for (name, value) in secrets {
                    v.set(&scope, &name, ampsecret::secret::SecretValue::new(value), 1);
                }
                Ok(())
            })
            .unwrap();
    }

    /// Every file under the temporary tree with its bytes, to check that a failed command
    /// left everything byte-identical. The lock file is skipped: taking a lock may create it.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        walk(self.temp.path(), &mut files);
        files.retain(|path, _| path.file_name().is_none_or(|n| n != "vault.lock"));
        files
    }
}

fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
        }
    }
}

/// One command to run.
pub struct Run {
    pub command: Command,
    stdin: Option<Vec<u8>>,
}

impl Run {
    pub fn arg(mut self, arg: &str) -> Run {
        self.command.arg(arg);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.command.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Run {
        self.command.current_dir(dir);
        self
    }

    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Run {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    pub fn run(mut self) -> Output {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn ampsecret");
        let mut pipe = child.stdin.take().unwrap();
        let input = self.stdin.unwrap_or_default();
        // A command that fails early may close stdin before reading it all.
        let _ = pipe.write_all(&input);
        drop(pipe);
        let out = child.wait_with_output().unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: format!("{:?}", self.command.get_args().collect::<Vec<_>>()),
        }
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    args: String,
}

impl Output {
    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(self) -> Output {
        assert_eq!(self.code, 0, "{} failed: {}", self.args, self.stderr);
        self
    }

    /// Asserts exit code `code` and a single-line `error: …` on stderr.
    #[track_caller]
    pub fn fails(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "{}: expected exit {code}, got {}: {}",
            self.args, self.code, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines.len(),
            1,
            "{}: want one error line, got {:?}",
            self.args,
            lines
        );
        assert!(
            lines[0].starts_with("error: "),
            "{}: {:?}",
            self.args,
            lines[0]
        );
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub fn stderr_has(self, text: &str) -> Output {
        assert!(
            self.stderr.contains(text),
            "{}: {:?} not in {:?}",
            self.args,
            text,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("{}: stdout is not JSON ({e}): {:?}", self.args, self.stdout)
        })
    }
}
