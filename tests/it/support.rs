//! A small builder for driving the real `ampsecret` binary in an isolated project, in the
//! style of casey/just's integration tests: each test reads as the commands a user types.
//!
//! Every run starts from an empty environment (plus PATH), with HOME and XDG_CONFIG_HOME
//! inside the test's temporary directory and the keyring off, so nothing leaks between
//! tests or from the developer's machine.

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
        project
            .cmd(&["init", "--app-id", app_id])
            .stderr_matches(&project.init_stderr())
            .success();
        project
    }

    /// `new()` followed by `ampsecret init --app-id APP_ID`.
    pub fn initialized() -> Project {
        let project = Project::new();
        project
            .cmd(&["init", "--app-id", APP_ID])
            .stderr_matches(&project.init_stderr())
            .success();
        project
    }

    /// The pattern of what `init` prints on stderr when the keyring is off: where the vault
    /// is, where its new key file (named after the generated vault id) is, said once, and
    /// the next two commands.
    pub fn init_stderr(&self) -> String {
        self.init_pattern("")
    }

    /// [`Project::init_stderr`] in a real git repository, where init registers git's drivers.
    pub fn init_stderr_in_git(&self) -> String {
        self.init_pattern(
            "Registered ampsecret's git merge and diff drivers; commit \\.gitattributes and \
             \\.ampsecret/\\.\n",
        )
    }

    fn init_pattern(&self, registered: &str) -> String {
        format!(
            "Created the vault at {}\\.\n{}{registered}Next:\n(  ampsecret .*\n){{2}}",
            regex::escape(&self.vault_dir().display().to_string()),
            self.key_file_note(),
        )
    }

    /// The pattern of the line `init` prints when the keyring is off (alone with `--json`).
    pub fn key_file_note(&self) -> String {
        format!(
            "The OS keyring is off \\(AMPSECRET_NO_KEYRING\\); the key is in {} \\(only you \
             can read it\\)\\. Back it up: without it the vault cannot be opened\\.\n",
            self.key_file()
        )
    }

    /// The pattern of the identity file's path, named after the generated vault id.
    fn key_file(&self) -> String {
        format!(
            r"{}/ampsecret/identities/[0-9a-f]{{24}}\.txt",
            regex::escape(&self.temp().join("config").display().to_string())
        )
    }

    /// What `init --passphrase` prints on stderr (a project with the app id: the next
    /// commands are set and push).
    pub fn init_passphrase_stderr(&self) -> String {
        format!(
            "Created the vault at {}.\nIt opens with your passphrase.\nNext:\n  ampsecret set NAME  # store a secret (hidden prompt)\n  ampsecret push      # publish the branch's secrets to SSM\n",
            self.vault_dir().display()
        )
    }

    /// Copies the fixture's Amplify backend (tests/fixtures/amplify-app/amplify) into the
    /// project.
    pub fn add_backend_fixture(&self) {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/amplify-app/amplify");
        copy_dir(&fixture, &self.root().join("amplify"));
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
        Run::new(command)
    }

    /// `ampsecret set NAME --stdin ARGS…` with `value` on stdin; asserts success and the line
    /// `Stored NAME in SCOPE.` or `Updated NAME in SCOPE.` on stderr.
    pub fn set(&self, name: &str, value: &str, args: &[&str]) -> Output {
        let mut all = vec!["set", name, "--stdin"];
        all.extend_from_slice(args);
        self.cmd(&all)
            .stdin(value)
            .stderr_matches(&format!(
                // A value over 4 KB gets a one-line warning about SSM's Advanced tier first.
                r"(warning: [^\n]+\n)?(Stored|Updated) {} in [^\n]+\.\n",
                regex::escape(name)
            ))
            .success()
    }

    /// `ampsecret get NAME ARGS…`; asserts success with nothing on stderr, and returns stdout
    /// for the test to compare.
    pub fn get(&self, name: &str, args: &[&str]) -> String {
        let mut all = vec!["get", name];
        all.extend_from_slice(args);
        self.cmd(&all).stdout_any().success().stdout
    }

    /// The key `init` stored in the identity file (the keyring is off in tests).
    pub fn key(&self) -> ampsecret::vault::Key {
        ampsecret::vault::Key::Identities(vec![identity_in(&self.temp().join("config"))])
    }

    /// Stores many secrets in branch `main` at once through the library: quick set-up for
    /// tests about large vaults.
    pub fn bulk_set(&self, secrets: impl IntoIterator<Item = (String, String)>) {
        let vault = ampsecret::vault::VaultDir::open(&self.vault_dir()).unwrap();
        let scope = ampsecret::scope::ScopeKey::Branch("main".into());
        vault
            .update(&self.key(), |v| {
                for (name, value) in secrets {
                    v.set(
                        &scope,
                        &name,
                        ampsecret::secret::SecretValue::new(value),
                        &ampsecret::vault::Stamp::new(1, "test"),
                    );
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

/// The line push, pull and diff print first: where they talk to (moto's account once an
/// ARN showed it).
/// The SSM path of branch `main` of the app `app`, as Amplify names it.
pub fn main_prefix(app: &str) -> String {
    format!(
        "/amplify/{app}/main-branch-{}",
        ampsecret::amplify::backend_hash(app, "main")
    )
}

pub fn ssm_line(endpoint: &str, account_known: bool) -> String {
    let account = if account_known {
        "account 123456789012"
    } else {
        "account unknown"
    };
    format!("SSM: region us-east-1, {account}, endpoint {endpoint}\n")
}

/// What `get` and `remove` print for a name that `scope` does not hold.
pub fn no_secret(name: &str, scope: &str) -> String {
    format!(
        "error: no secret {name} in {scope}; 'ampsecret list --all' shows what the vault holds\n"
    )
}

/// An error as `--json` prints it on stderr: one line, spelled out here independently of the
/// code that writes it.
pub fn json_error(code: i32, kind: &str, message: &str) -> String {
    format!(r#"{{"error":{{"code":{code},"kind":"{kind}","message":"{message}"}}}}"#) + "\n"
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

/// What a command must print on one stream.
#[derive(Debug)]
enum Expected {
    /// Exactly this text (the default is the empty text).
    Exact(String),
    /// Each of these pieces, anywhere (for text around a variable part).
    Has(Vec<String>),
    /// A full match of this pattern (for a variable part such as a path or a generated id).
    Matches(regex::Regex),
    /// A JSON document, which the test then inspects through [`Output::json`].
    Json,
    /// Anything: the test checks this stream itself, or it is not deterministic.
    Any,
}

impl Expected {
    fn has(&mut self, text: &str) {
        match self {
            Expected::Has(pieces) => pieces.push(text.into()),
            _ => *self = Expected::Has(vec![text.into()]),
        }
    }

    /// Why `actual` does not meet the expectation, if it does not.
    fn mismatch(&self, actual: &str) -> Option<String> {
        match self {
            Expected::Exact(text) if actual != text => {
                Some(format!("want exactly\n{text:?}\ngot\n{actual:?}"))
            }
            Expected::Has(pieces) => pieces
                .iter()
                .find(|piece| !actual.contains(piece.as_str()))
                .map(|piece| format!("want it to contain {piece:?}, got\n{actual:?}")),
            Expected::Matches(pattern) if !pattern.is_match(actual) => {
                Some(format!("want a full match of /{pattern}/, got\n{actual:?}"))
            }
            Expected::Json => serde_json::from_str::<serde_json::Value>(actual)
                .err()
                .map(|e| format!("want a JSON document ({e}), got\n{actual:?}")),
            _ => None,
        }
    }
}

/// One command to run and what it must do, in the style of casey/just's `tests/test.rs`: the
/// expectations come first, then [`Run::success`] or [`Run::fails`] runs the command and checks
/// everything at once. Unless the test says otherwise, stdout and stderr must both be exactly
/// empty: a test states what a command prints with [`Run::stdout`] / [`Run::stderr`] (exact)
/// or opts out explicitly with the `_has`, `_matches`, `_json` and `_any` variants.
#[must_use = "a command does nothing until .success() or .fails(code) runs it"]
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
    stdout: Expected,
    stderr: Expected,
}

impl Run {
    fn new(command: Command) -> Run {
        Run {
            command,
            stdin: None,
            stdout: Expected::Exact(String::new()),
            stderr: Expected::Exact(String::new()),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.command.env_remove(key);
        self
    }

    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Run {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// stdout must be exactly `text`.
    pub fn stdout(mut self, text: impl Into<String>) -> Run {
        self.stdout = Expected::Exact(text.into());
        self
    }

    /// stdout must contain `text` (and every other `stdout_has` piece).
    pub fn stdout_has(mut self, text: &str) -> Run {
        self.stdout.has(text);
        self
    }

    /// stdout must fully match the regular expression `pattern`.
    pub fn stdout_matches(mut self, pattern: &str) -> Run {
        self.stdout = Expected::Matches(full_match(pattern));
        self
    }

    /// stdout must be one JSON document; the test inspects it through [`Output::json`].
    pub fn stdout_json(mut self) -> Run {
        self.stdout = Expected::Json;
        self
    }

    /// stdout is not checked here: the test checks it itself.
    pub fn stdout_any(mut self) -> Run {
        self.stdout = Expected::Any;
        self
    }

    /// stderr must be exactly `text`.
    pub fn stderr(mut self, text: impl Into<String>) -> Run {
        self.stderr = Expected::Exact(text.into());
        self
    }

    /// stderr must contain `text` (and every other `stderr_has` piece).
    pub fn stderr_has(mut self, text: &str) -> Run {
        self.stderr.has(text);
        self
    }

    /// stderr must fully match the regular expression `pattern`.
    pub fn stderr_matches(mut self, pattern: &str) -> Run {
        self.stderr = Expected::Matches(full_match(pattern));
        self
    }

    /// stderr is not checked here: the test checks it itself, or it is not deterministic.
    pub fn stderr_any(mut self) -> Run {
        self.stderr = Expected::Any;
        self
    }

    /// Runs the command; asserts exit code 0 and the expected stdout and stderr.
    #[track_caller]
    pub fn success(self) -> Output {
        self.check(0)
    }

    /// Runs the command; asserts exit code `code` and the expected stdout and stderr. When the
    /// test gives only pieces of stderr (`stderr_has`), stderr must still be the single
    /// `error: …` line every failure prints.
    #[track_caller]
    pub fn fails(self, code: i32) -> Output {
        assert_ne!(code, 0, "use .success() for exit code 0");
        let one_error_line = matches!(self.stderr, Expected::Has(_));
        let out = self.check(code);
        if one_error_line {
            let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.is_empty()).collect();
            assert!(
                lines.len() == 1 && lines[0].starts_with("error: "),
                "{}: want one `error: …` line on stderr, got {lines:?}",
                out.args
            );
        }
        out
    }

    /// The command itself, for a test that must drive the process (signals, streaming).
    #[must_use]
    pub fn into_command(self) -> Command {
        self.command
    }

    #[track_caller]
    fn check(self, code: i32) -> Output {
        let (out, stdout, stderr) = self.run_unchecked();
        assert_eq!(
            out.code, code,
            "{}: want exit code {code}, got {}\nstdout: {:?}\nstderr: {:?}",
            out.args, out.code, out.stdout, out.stderr
        );
        for (name, expected, actual) in [
            ("stdout", stdout, &out.stdout),
            ("stderr", stderr, &out.stderr),
        ] {
            if let Some(mismatch) = expected.mismatch(actual) {
                panic!("{}: {name}: {mismatch}", out.args);
            }
        }
        out
    }

    fn run_unchecked(mut self) -> (Output, Expected, Expected) {
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
        let output = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: format!("{:?}", self.command.get_args().collect::<Vec<_>>()),
        };
        (output, self.stdout, self.stderr)
    }
}

fn full_match(pattern: &str) -> regex::Regex {
    regex::Regex::new(&format!(r"\A(?:{pattern})\z")).expect("a valid regular expression")
}

/// What a command did, after [`Run::success`] or [`Run::fails`] checked it.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    args: String,
}

impl Output {
    /// stdout as JSON (see [`Run::stdout_json`]).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("{}: stdout is not JSON ({e}): {:?}", self.args, self.stdout)
        })
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The vault key `init` stored under the config directory `config` (XDG_CONFIG_HOME), the
/// keyring being off in tests.
pub fn identity_in(config: &Path) -> age::x25519::Identity {
    let ids = config.join("ampsecret/identities");
    let file = std::fs::read_dir(&ids)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .parse()
        .unwrap()
}
