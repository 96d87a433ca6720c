//! Shell completion. The scripts `ampsecret completions SHELL` prints are clap_complete's
//! registration scripts: on TAB the shell runs `AMPSECRET_COMPLETE=SHELL ampsecret -- WORDS…`
//! and [`answer_request`] replies, so secret and scope names come from the vault at that
//! moment, which no static script could know.
//!
//! A completion request never prompts and never prints a value: it runs as `--no-input`,
//! skips passphrase vaults (scrypt takes about a second by design; completion must answer
//! in milliseconds) and completes nothing when the key is unavailable.

use super::{Cli, GlobalArgs, ScopeArgs, Shell};
use crate::config::Config;
use crate::project::GitHead;
use crate::scope::ScopeKey;
use crate::session::Context;
use crate::vault::{Encryption, VaultView};
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use clap_complete::CompletionCandidate;
use clap_complete::engine::{PathCompleter, ValueCompleter};
use clap_complete::env::{self, EnvCompleter};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::ffi::OsString;

/// The variable the registration scripts set to ask for candidates. Namespaced, because a
/// stray `COMPLETE=1` in someone's environment must not turn every run into a completion.
pub const REQUEST_ENV: &str = "AMPSECRET_COMPLETE";
/// The binary the scripts call back: the one on PATH, so a script stays valid (and
/// byte-identical to the committed copy) wherever the binary is installed.
const BIN: &str = "ampsecret";

/// The completion script for `shell`, exactly as committed in `completions/`.
pub fn script(shell: Shell) -> Vec<u8> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &env::Bash,
        Shell::Zsh => &env::Zsh,
        Shell::Fish => &env::Fish,
        Shell::Powershell => &env::Powershell,
        Shell::Elvish => &env::Elvish,
    };
    let mut out = Vec::new();
    completer
        .write_registration(REQUEST_ENV, BIN, BIN, BIN, &mut out)
        .expect("writing to a Vec cannot fail");
    if let Shell::Zsh = shell {
        // Installed in $fpath as `_ampsecret`, the file is autoloaded as the body of
        // `_ampsecret` on the first TAB: it only registers the real function, so call it
        // too, or that first TAB would complete nothing.
        out.extend_from_slice(
            b"if [[ \"${funcstack[1]-}\" == _ampsecret ]]; then\n    _clap_dynamic_completer_ampsecret \"$@\"\nfi\n",
        );
    }
    out
}

/// Answers a completion request and exits, when this process is one; otherwise returns.
/// Must run before anything is written to stdout.
pub fn answer_request() {
    // clap's check reads the working directory first (a system call on every run).
    if std::env::var_os(REQUEST_ENV).is_none() {
        return;
    }
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(REQUEST_ENV)
        .completer(BIN)
        .complete();
}

/// Secret names for a NAME argument: those of the scope the command line selects, else
/// (no scope can be inferred) of every scope, with the scopes as help.
pub fn secret_names() -> Vec<CompletionCandidate> {
    with_vault(|cx, scope, view| {
        let only = cx.scope(scope).ok();
        let mut names: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for s in &view.scopes {
            if only.as_ref().is_none_or(|key| *key == s.key) {
                for entry in &s.secrets {
                    names.entry(entry.name).or_default().push(s.key.to_string());
                }
            }
        }
        names
            .into_iter()
            .map(|(name, scopes)| {
                CompletionCandidate::new(name).help(Some(scopes.join(", ").into()))
            })
            .collect()
    })
}

/// Branch names for `--branch`: the branch scopes in the vault and the current git branch.
pub fn branch_names() -> Vec<CompletionCandidate> {
    let mut names = with_vault(|_, _, view| {
        scope_names(view, |key| match key {
            ScopeKey::Branch(name) => Some(name.clone()),
            _ => None,
        })
    });
    let cwd = std::env::current_dir().unwrap_or_default();
    if let GitHead::Branch(branch) = crate::project::git_head(&cwd)
        && !branch.chars().any(crate::text::is_unusual)
        && !names.iter().any(|c| c.get_value() == branch.as_str())
    {
        names.push(CompletionCandidate::new(branch).help(Some("the git branch".into())));
    }
    names
}

/// Sandbox ids for `--sandbox=`: the sandbox scopes in the vault and your account name.
pub fn sandbox_ids() -> Vec<CompletionCandidate> {
    if !completing_value_of("--sandbox") {
        return Vec::new();
    }
    let mut ids = with_vault(|_, _, view| {
        scope_names(view, |key| match key {
            ScopeKey::Sandbox(id) => Some(id.clone()),
            _ => None,
        })
    });
    if let Some(user) = crate::sys::os_user_name()
        && !ids.iter().any(|c| c.get_value() == user.as_str())
    {
        ids.push(CompletionCandidate::new(user).help(Some("your default sandbox".into())));
    }
    ids
}

/// Identifiers for `--standalone=`: the standalone scopes in the vault and the one derived
/// from package.json's name.
pub fn standalone_ids() -> Vec<CompletionCandidate> {
    if !completing_value_of("--standalone") {
        return Vec::new();
    }
    with_vault(|cx, _, view| {
        let mut ids = scope_names(view, |key| match key {
            ScopeKey::Standalone(id) => Some(id.clone()),
            _ => None,
        });
        let derived = cx
            .scope(&ScopeArgs {
                standalone: Some(String::new()),
                ..ScopeArgs::default()
            })
            .ok();
        if let Some(ScopeKey::Standalone(id)) = derived
            && !ids.iter().any(|c| c.get_value() == id.as_str())
        {
            ids.push(CompletionCandidate::new(id).help(Some("from package.json".into())));
        }
        ids
    })
}

/// Namespaces for `--shared=`: the shared namespaces in the vault and those the vault's
/// sandboxes and standalone deployments fall back to.
pub fn shared_namespaces() -> Vec<CompletionCandidate> {
    if !completing_value_of("--shared") {
        return Vec::new();
    }
    with_vault(|cx, _, view| {
        let app = cx.app_identity().unwrap_or_default();
        let mut namespaces: BTreeMap<String, &str> = BTreeMap::new();
        for key in view.scopes.iter().map(|s| &s.key) {
            match key {
                ScopeKey::SharedNamespace(ns) => {
                    namespaces.insert(ns.clone(), "in the vault");
                }
                _ => {
                    if let Ok(Some(ScopeKey::SharedNamespace(ns))) = key.fallback(&app) {
                        namespaces.entry(ns).or_insert("a fallback");
                    }
                }
            }
        }
        namespaces
            .into_iter()
            .filter(|(ns, _)| crate::amplify::validate_shared_namespace(ns).is_ok())
            .map(|(ns, help)| CompletionCandidate::new(ns).help(Some(help.into())))
            .collect()
    })
}

/// The command `exec` runs, after `--`: a command on PATH (or a path) first, then files, as
/// a shell completes a command line.
pub struct CommandLine;

impl ValueCompleter for CommandLine {
    fn complete(&self, current: &OsStr) -> Vec<CompletionCandidate> {
        let mut candidates = Vec::new();
        let path_like = current.to_string_lossy().contains('/');
        if words_after_escape() == 0 && !path_like {
            candidates.extend(commands_on_path(&current.to_string_lossy()));
        }
        candidates.extend(PathCompleter::any().complete(current));
        candidates
    }
}

/// How many words of the command line come between `exec`'s `--` and the word being
/// completed (the last argument of this request).
fn words_after_escape() -> usize {
    let words: Vec<OsString> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .collect();
    let Some(exec) = words.iter().position(|w| w == "exec") else {
        return 0;
    };
    let after_exec = &words[exec..words.len().saturating_sub(1)];
    after_exec
        .iter()
        .position(|w| w == "--")
        .map_or(0, |escape| after_exec.len() - escape - 1)
}

/// Executables on PATH whose names start with `prefix`, each once, sorted.
fn commands_on_path(prefix: &str) -> Vec<CompletionCandidate> {
    use std::os::unix::fs::PermissionsExt;
    let mut names = std::collections::BTreeSet::new();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let executable = entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if executable && name.starts_with(prefix) && !name.chars().any(crate::text::is_unusual)
            {
                names.insert(name);
            }
        }
    }
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// Keys for `config get/set/unset`: the settings, and the vault's tags by name (read from
/// config.toml; nothing is decrypted).
pub fn config_keys() -> Vec<CompletionCandidate> {
    let mut keys: Vec<CompletionCandidate> = [
        ("app_id", "the Amplify app id"),
        ("history", "versions kept per secret"),
        ("tags.", "a tag push puts on every parameter: tags.NAME"),
    ]
    .into_iter()
    .map(|(key, help)| CompletionCandidate::new(key).help(Some(help.into())))
    .collect();
    let vault = words_so_far()
        .and_then(|(global, _)| Config::new(&global).ok())
        .and_then(|config| crate::vault::VaultDir::open(&config.vault_dir).ok());
    if let Some(vault) = vault {
        keys.extend(
            vault
                .config
                .tags
                .keys()
                .filter(|tag| !tag.chars().any(crate::text::is_unusual))
                .map(|tag| CompletionCandidate::new(format!("tags.{tag}"))),
        );
    }
    keys
}

/// Scopes for `copy --from/--to`: the vault's, as `list` shows them.
pub fn scope_labels() -> Vec<CompletionCandidate> {
    with_vault(|_, _, view| scope_names(view, |key| Some(key.to_string())))
}

fn scope_names(
    view: &VaultView<'_>,
    name: impl Fn(&ScopeKey) -> Option<String>,
) -> Vec<CompletionCandidate> {
    // A name with a control character (a newline makes two candidates in bash) is never
    // offered; such names are refused on the way in, but an older vault may hold one.
    view.scopes
        .iter()
        .filter_map(|s| name(&s.key))
        .filter(|n| !n.chars().any(crate::text::is_unusual))
        .map(|n| CompletionCandidate::new(n).help(Some("in the vault".into())))
        .collect()
}

/// Whether the word being completed is `FLAG=…`. A flag whose value is optional takes it only
/// after '=', but clap also asks for its candidates at the next word, where they would
/// crowd out the secret names that belong there.
fn completing_value_of(flag: &str) -> bool {
    std::env::args_os()
        .last()
        .and_then(|word| word.into_string().ok())
        .is_some_and(|word| word.starts_with(&format!("{flag}=")))
}

/// Runs `complete` on the decrypted vault the command line points at; empty when there is
/// no vault or no key at hand.
fn with_vault(
    complete: impl FnOnce(&Context, &ScopeArgs, &VaultView<'_>) -> Vec<CompletionCandidate>,
) -> Vec<CompletionCandidate> {
    let Some((global, scope)) = words_so_far() else {
        return Vec::new();
    };
    let Ok(config) = Config::new(&global) else {
        return Vec::new();
    };
    let cx = Context::new(config);
    // Warnings would land in the middle of the line being edited.
    crate::vault::store::silence_warnings();
    let Ok(Some(dir)) = cx.vault_dir() else {
        return Vec::new();
    };
    if matches!(dir.config.encryption, Encryption::Passphrase) {
        return Vec::new();
    }
    // A TAB must answer at once; a locked keyring gives no names rather than a stall.
    crate::keystore::limit_keyring_wait(std::time::Duration::from_millis(300));
    let Ok(vault) = cx.vault() else {
        return Vec::new();
    };
    match vault.view() {
        Ok(view) => complete(&cx, &scope, &view),
        Err(_) => Vec::new(),
    }
}

/// The global and scope flags on the command line being completed (the words after `--`
/// in this process's arguments), parsed leniently: the line is unfinished by nature.
fn words_so_far() -> Option<(GlobalArgs, ScopeArgs)> {
    let words: Vec<OsString> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .collect();
    let matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(words)
        .ok()?;
    let mut sub: &ArgMatches = &matches;
    while let Some((_, next)) = sub.subcommand() {
        sub = next;
    }
    let mut global = GlobalArgs::from_arg_matches(sub).ok()?;
    global.no_input = true;
    // Read by id rather than `ScopeArgs::from_arg_matches`, which panics on a command
    // without scope flags.
    let scope = ScopeArgs {
        branch: sub.try_get_one::<String>("branch").ok().flatten().cloned(),
        sandbox: sub.try_get_one::<String>("sandbox").ok().flatten().cloned(),
        standalone: sub
            .try_get_one::<String>("standalone")
            .ok()
            .flatten()
            .cloned(),
        shared: sub.try_get_one::<String>("shared").ok().flatten().cloned(),
    };
    Some((global, scope))
}
