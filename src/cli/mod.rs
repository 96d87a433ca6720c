//! The command line: its arguments (this module), their documentation ([`docs`]), shell
//! completion ([`complete`]) and the manual pages ([`man`]), all from one clap definition.

pub mod complete;
pub mod docs;
pub mod man;
pub mod usage;

use crate::scope::Requested;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCandidates;
use complete::{
    branch_names, sandbox_ids, scope_labels, secret_names, shared_namespaces, standalone_ids,
};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ampsecret",
    version,
    about = "A local, age-encrypted vault for AWS Amplify Gen 2 secrets",
    long_about = "A local, age-encrypted vault for AWS Amplify Gen 2 secrets, per branch, per sandbox \
and shared by the whole app, that maps every name to exactly the SSM parameter Amplify reads.",
    after_help = "Run 'ampsecret help <command>' for examples.",
    propagate_version = true,
    infer_subcommands = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the program's name first) as [`Parser::try_parse_from`] does, building
    /// the options every command takes into the command that runs only.
    ///
    /// clap copies each global option into every command when it builds the tree (6 options
    /// into 26 commands): a fifth of the start-up of a `get` (0.12 ms, BENCHMARKS.md). Here
    /// the options are plain ones of the top level, and copies go into the command named on
    /// the line, global within it (its own commands get them). Help, and a line whose command
    /// is not found (an error, or none), take clap's own way: what they print is unchanged.
    /// The text `ampsecret --help` ends with is added on that way only.
    pub fn parse_from(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let command = Cli::command();
        let Some(name) = invoked_command(&command, &args) else {
            // The environment and exit codes `--help` shows last: written only when they can
            // be shown (0.04 ms of every run).
            let matches = command
                .after_long_help(docs::top_after_long_help())
                .try_get_matches_from(args)?;
            return Cli::from_arg_matches(&matches);
        };
        let copies: Vec<clap::Arg> = command
            .get_arguments()
            .filter(|arg| arg.is_global_set())
            .cloned()
            .collect();
        let mut command = command
            .mut_args(|arg| arg.global(false))
            .mut_subcommand(name, |sub| sub.args(copies));
        let matches = command.try_get_matches_from_mut(args)?;
        // The tree of every command's definitions is not dropped: the process ends with the
        // command, and freeing it piece by piece cost 0.02 ms of every run. It holds no value.
        std::mem::forget(command);
        let mut cli = Cli::from_arg_matches(&matches)?;
        if let Some((_, sub)) = matches.subcommand() {
            cli.global.absorb(GlobalArgs::from_arg_matches(sub)?, sub);
        }
        Ok(cli)
    }
}

/// The name of the command `args` run, found as clap finds it, when nothing asks for help;
/// `None` when in doubt.
fn invoked_command(command: &clap::Command, args: &[std::ffi::OsString]) -> Option<String> {
    let asks_help = args
        .iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "-h" || arg == "--help");
    if asks_help {
        return None;
    }
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut rest = args.iter().skip(1).map(|arg| arg.to_str());
    while let Some(token) = rest.next() {
        let token = token?;
        if let Some(long) = token.strip_prefix("--") {
            let (name, value) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(name))?;
            if takes_value(arg) && value.is_none() {
                rest.next();
            }
        } else if let Some(shorts) = token.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, short) in shorts.char_indices() {
                let arg = command
                    .get_arguments()
                    .find(|arg| arg.get_short() == Some(short))?;
                if takes_value(arg) {
                    if at + short.len_utf8() == shorts.len() {
                        rest.next();
                    }
                    break;
                }
            }
        } else {
            return command
                .find_subcommand(token)
                .map(|sub| sub.get_name().to_owned());
        }
    }
    None
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Vault directory [default: .ampsecret at the project root]
    #[arg(long, global = true, env = "AMPSECRET_VAULT", hide_env_values = true, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub vault: Option<PathBuf>,

    /// Amplify app id, for branch and shared scopes [default: from the vault's config]
    #[arg(
        long,
        global = true,
        env = "AWS_APP_ID",
        hide_env_values = true,
        value_name = "ID"
    )]
    pub app_id: Option<String>,

    /// Sandbox namespace [default: "name" in the project's package.json]
    #[arg(long, global = true, value_name = "NAME")]
    pub app_name: Option<String>,

    /// Print machine-readable JSON on stdout (errors as JSON on stderr)
    #[arg(long, global = true)]
    pub json: bool,

    /// More diagnostics on stderr (-v, -vv); they never contain values
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Never prompt; fail where input would be needed (implied without a terminal)
    #[arg(long, global = true, env = "AMPSECRET_NO_INPUT", hide_env_values = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_input: bool,
}

impl GlobalArgs {
    /// Takes in the options given after the command (`after`, parsed from `matches`; see
    /// [`Cli::parse_from`]): one given there wins, as in clap's own parse (`-v` included).
    /// What only the environment set is the same on both levels.
    fn absorb(&mut self, after: GlobalArgs, matches: &clap::ArgMatches) {
        let given =
            |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        // clap names each option after its field; the pattern fails to compile when a field
        // is left out.
        macro_rules! take_given {
            ($($field:ident),*) => {
                let GlobalArgs { $($field: _),* } = &after;
                $(
                    if given(stringify!($field)) {
                        self.$field = after.$field;
                    }
                )*
            };
        }
        take_given!(vault, app_id, app_name, json, verbose, no_input);
    }
}

// Which scope a command works on. With none given: `$AWS_BRANCH`, else the git branch.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "scope", multiple = false)]
pub struct ScopeArgs {
    /// A branch deployment [default: $AWS_BRANCH, else the current git branch]
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(branch_names))]
    pub branch: Option<String>,

    /// A personal cloud sandbox; ID defaults to your OS account name (write --sandbox=ID)
    #[arg(long, value_name = "ID", num_args = 0..=1, require_equals = true, default_missing_value = "", add = ArgValueCandidates::new(sandbox_ids))]
    pub sandbox: Option<String>,

    /// A deployment without Amplify Hosting (ampx deploy); ID defaults to the one ampx derives from package.json's name (write --standalone=ID)
    #[arg(long, value_name = "ID", num_args = 0..=1, require_equals = true, default_missing_value = "", add = ArgValueCandidates::new(standalone_ids))]
    pub standalone: Option<String>,

    /// A shared scope: the app id's, shared by all branches; --shared=NS names any namespace (a sandbox's package name, a standalone identifier)
    #[arg(long, value_name = "NS", num_args = 0..=1, require_equals = true, default_missing_value = "", add = ArgValueCandidates::new(shared_namespaces))]
    pub shared: Option<String>,
}

impl ScopeArgs {
    /// The scope these flags name, if any.
    pub fn requested(&self) -> Option<Requested> {
        let given = |flag: &Option<String>| flag.clone().map(|v| Some(v).filter(|v| !v.is_empty()));
        if let Some(namespace) = given(&self.shared) {
            Some(namespace.map_or(Requested::Shared, Requested::SharedNamespace))
        } else if let Some(id) = given(&self.sandbox) {
            Some(Requested::Sandbox(id))
        } else if let Some(id) = given(&self.standalone) {
            Some(Requested::Standalone(id))
        } else {
            self.branch.clone().map(Requested::Branch)
        }
    }
}

// Each command's arguments are built only when it runs (or for help, completion and manual
// pages, which build the whole tree): building all of them cost every run 1.2 M of the
// 3.6 M instructions of a `get`.
// Built last, they would override the command's description with a flattened struct's doc
// comment: those structs (ScopeArgs, SyncArgs, ...) carry plain comments instead. Each
// command's long help (prose and examples) sits on its arguments' struct, so it is built
// with them, only for the command that runs.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create the vault and its key
    Init(InitArgs),

    /// Show or change the vault's settings: app id, history depth, default tags
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Store a secret (hidden prompt, --stdin or --file; never from the command line)
    Set(SetArgs),

    /// Print a secret's value
    Get(GetArgs),

    /// List secret names, scopes and update times (never values)
    List(ListArgs),

    /// Delete a secret from the vault
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),

    /// Print the SSM parameter name Amplify uses for a secret
    Path(PathArgs),

    /// Show how the vault and SSM differ (names and states; never values)
    Diff(DiffArgs),

    /// Write the scope's secrets to SSM under Amplify's paths (plan, confirm, apply)
    Push(PushArgs),

    /// Bring the scope's secrets from SSM into the vault
    Pull(PullArgs),

    /// Show a secret's past versions in the vault and in SSM, and which match (never values)
    History(HistoryArgs),

    /// Make an earlier version of a secret current again, as a new version (never shows it)
    Rollback(RollbackArgs),

    /// Check the vault, its key and the AWS setup; each problem with its fix
    Doctor(DoctorArgs),

    /// Run a command with the scope's effective secrets as environment variables
    Exec(ExecArgs),

    /// Print a scope's secrets as dotenv, shell, JSON or GitHub Actions environment
    Export(ExportArgs),

    /// Store the secrets of a dotenv or JSON file in a scope, after showing a plan
    Import(ImportArgs),

    /// Copy secrets from one scope of the vault to another (plan, confirm; never shows a value)
    Copy(CopyArgs),

    /// Check that every secret() of the amplify/ backend has a value in a scope
    Check(CheckArgs),

    /// Print a shell completion script
    Completions(CompletionsArgs),

    /// Print or install the manual pages
    Man(ManArgs),

    /// List, add or remove the members the vault is encrypted to
    #[command(subcommand)]
    Recipients(RecipientsCommand),

    /// Make your key for this vault and print what to send to a member (run in a fresh clone)
    Join(JoinArgs),

    /// Register ampsecret's git merge and diff drivers for the vault in this repository
    #[command(after_long_help = docs::after_long_help("git-setup"))]
    GitSetup,

    /// Settle the secrets a git merge left in conflict: ours or theirs
    Resolve(ResolveArgs),

    /// git's merge driver for vault.age (set up by git-setup)
    #[command(hide = true)]
    GitMergeDriver(MergeDriverArgs),

    /// git's diff text conversion for vault.age (set up by git-setup)
    #[command(hide = true)]
    GitTextconv(TextconvArgs),
}

#[derive(Debug, Subcommand)]
#[command(defer = true, after_long_help = docs::after_long_help("config"))]
pub enum ConfigCommand {
    /// Every setting with its value
    List,
    /// Print one setting's value
    Get(ConfigKeyArgs),
    /// Change a setting (checked; written under the vault's lock)
    Set(ConfigSetArgs),
    /// Put a setting back to its default (a tag: remove it)
    Unset(ConfigKeyArgs),
}

#[derive(Debug, Args)]
pub struct ConfigKeyArgs {
    /// app_id, history or tags.NAME
    #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
    pub key: String,
}

#[derive(Debug, Args)]
pub struct ConfigSetArgs {
    /// app_id, history or tags.NAME
    #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
    pub key: String,
    /// The new value (settings are not secret)
    #[arg(value_name = "VALUE")]
    pub value: String,
}

#[derive(Debug, Subcommand)]
#[command(defer = true, after_long_help = docs::after_long_help("recipients"))]
pub enum RecipientsCommand {
    /// Every member: name and public key
    List,
    /// Add a member and re-encrypt the vault to them at once
    Add(RecipientAddArgs),
    /// Remove a member, re-encrypt without them, and list the secrets to rotate
    Remove(RecipientRemoveArgs),
}

#[derive(Debug, Args)]
pub struct RecipientAddArgs {
    /// The member's public key: age1…, or an OpenSSH public key line (quote it)
    #[arg(value_name = "KEY")]
    pub key: String,
    /// A name to know them by [default: the SSH key's comment, else member-N]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecipientRemoveArgs {
    /// The member's name or public key
    #[arg(value_name = "NAME|KEY")]
    pub member: String,
    /// Remove without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Allow removing yourself (you will no longer be able to open the vault)
    #[arg(long)]
    pub remove_myself: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("join"))]
pub struct JoinArgs {
    /// Your name, as members will see it [default: your OS account name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("resolve"))]
pub struct ResolveArgs {
    /// Secret names to settle [default: every conflict]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Keep this branch's value
    #[arg(long, conflicts_with = "theirs", required_unless_present = "theirs")]
    pub ours: bool,
    /// Take the merged branch's value
    #[arg(long)]
    pub theirs: bool,
}

#[derive(Debug, Args)]
pub struct MergeDriverArgs {
    /// The common ancestor's version (%O)
    pub base: PathBuf,
    /// Our version, replaced by the merge (%A)
    pub ours: PathBuf,
    /// Their version (%B)
    pub theirs: PathBuf,
}

#[derive(Debug, Args)]
pub struct TextconvArgs {
    /// The vault.age version to describe
    pub file: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("init"))]
pub struct InitArgs {
    /// Encrypt with a passphrase (scrypt) instead of a key in the OS keyring
    #[arg(long)]
    pub passphrase: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("set"))]
pub struct SetArgs {
    /// Secret name: letters, digits, '_', '.', '-'
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Read the value from standard input (to EOF; one trailing newline is dropped)
    #[arg(long, conflicts_with = "file")]
    pub stdin: bool,
    /// Read the value from a file, exactly (see --strip-newline)
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<PathBuf>,
    /// With --file: drop one trailing newline (what 'echo value > file' adds)
    #[arg(long)]
    pub strip_newline: bool,
    /// Overwrite an existing secret without asking
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// Secret name
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("get"))]
pub struct GetArgs {
    #[command(flatten)]
    pub target: NameArgs,
    /// Print what a deployment of the scope resolves: its value, else the shared one
    #[arg(long)]
    pub effective: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("list"))]
pub struct ListArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// List every scope in the vault
    #[arg(long, conflicts_with = "scope")]
    pub all: bool,
    /// List what a deployment of the scope resolves, and where each value comes from
    #[arg(long, conflicts_with = "all")]
    pub effective: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("remove"))]
pub struct RemoveArgs {
    /// Secret name
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Remove without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("path"))]
pub struct PathArgs {
    /// Secret name
    #[arg(required_unless_present = "prefix", add = ArgValueCandidates::new(secret_names))]
    pub name: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Print the scope's prefix (the GetParametersByPath path) instead
    #[arg(long, conflicts_with = "name")]
    pub prefix: bool,
}

// Where `exec` and `export` take values from, and which names they pass on.
#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// Read the scope's effective values straight from SSM (its own path, then its shared namespace): no vault and no key, only AWS credentials and the app id
    #[arg(long)]
    pub remote: bool,
    /// Only these names (comma-separated)
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',', conflicts_with = "from_backend", add = ArgValueCandidates::new(secret_names))]
    pub names: Vec<String>,
    /// Only the secret('NAME') names the amplify/ backend uses (those 'check' finds)
    #[arg(long)]
    pub from_backend: bool,
    /// Fail before anything happens if a name has no effective value: these names, or with none given every name of --names / --from-backend
    #[arg(long, value_name = "NAME", num_args = 0.., value_delimiter = ',', add = ArgValueCandidates::new(secret_names))]
    pub strict: Option<Vec<String>>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("exec"))]
pub struct ExecArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Start COMMAND from an empty environment plus PATH and HOME
    #[arg(long)]
    pub pristine: bool,
    /// Pass on a secret whose name steers programs (PATH, LD_*, NODE_OPTIONS, ...), refused otherwise
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',')]
    pub allow_env: Vec<String>,
    /// Replace each secret value (of 4 or more characters) in COMMAND's stdout and stderr with *** [default when CI is set]
    #[arg(long, overrides_with = "no_mask")]
    pub mask: bool,
    /// Pass COMMAND's output through untouched [default unless CI is set]
    #[arg(long, overrides_with = "mask")]
    pub no_mask: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// The command to run and its arguments, after '--'
    #[arg(value_name = "COMMAND", required = true, last = true, value_hint = clap::ValueHint::CommandWithArguments, add = clap_complete::ArgValueCompleter::new(complete::CommandLine))]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("export"))]
pub struct ExportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format [default: dotenv; json with --json]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ExportFormat>,
    /// Export what a deployment of the scope resolves: its values, else the shared ones (always so with --remote)
    #[arg(long)]
    pub effective: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("import"))]
pub struct ImportArgs {
    /// The file to read ('-' for standard input)
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub file: PathBuf,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Input format [default: json for a .json file, else dotenv]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ImportFormat>,
    /// Import without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("copy"))]
pub struct CopyArgs {
    /// The scope to copy from, as 'list' shows it: branch:NAME, sandbox:ID, standalone:ID, shared, shared:NS
    #[arg(long, value_name = "SCOPE", add = ArgValueCandidates::new(scope_labels))]
    pub from: String,
    /// The scope to copy to, written the same way
    #[arg(long, value_name = "SCOPE", add = ArgValueCandidates::new(scope_labels))]
    pub to: String,
    /// The secrets to copy [default: every secret of --from]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Replace values that differ in --to (without it they are reported and kept)
    #[arg(long)]
    pub overwrite: bool,
    /// Copy without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("check"))]
pub struct CheckArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Also check that each name exists in SSM (branch path, then shared path)
    #[arg(long)]
    pub remote: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// NAME='value' lines for Node's dotenv, Next.js (@next/env) and Vite's loadEnv alike
    Dotenv,
    /// NAME='value' lines for python-dotenv (dotenv_values, load_dotenv)
    PythonDotenv,
    /// export NAME='value' lines, for 'source' in bash, zsh or sh
    Shell,
    /// One JSON object of names to values
    Json,
    /// GitHub Actions' $GITHUB_ENV form (NAME<<DELIMITER), with ::add-mask:: on stderr
    Github,
}

impl ExportFormat {
    /// The name `--format` takes.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Dotenv => "dotenv",
            ExportFormat::PythonDotenv => "python-dotenv",
            ExportFormat::Shell => "shell",
            ExportFormat::Json => "json",
            ExportFormat::Github => "github",
        }
    }
}

/// What `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// NAME=value lines, read as Node's dotenv reads them ('$' is literal)
    Dotenv,
    /// NAME=value lines, read as python-dotenv reads them ('${…}' is refused)
    PythonDotenv,
    /// One JSON object of names to string values
    Json,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("completions"))]
pub struct CompletionsArgs {
    /// The shell to print a script for
    pub shell: Shell,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("man"))]
pub struct ManArgs {
    /// Write every page (ampsecret.1, ampsecret-set.1, …) into DIR, creating it
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// Install every page into your own manual folder ($XDG_DATA_HOME/man/man1, by default ~/.local/share/man/man1) and say whether man looks there
    #[arg(long, conflicts_with = "dir")]
    pub install: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

// How to reach AWS. Credentials come from the standard chain: environment, profiles, SSO,
// credential processes, and `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL` for the endpoint.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS profile to use (SSO and credential_process profiles work) [default: $AWS_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region [default: $AWS_REGION, else the profile's region]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

// How to settle a secret changed on the side a command would overwrite.
#[derive(Debug, Clone, Args)]
pub struct ConflictArgs {
    /// Let this command's direction win every conflict (push: the vault; pull: SSM)
    #[arg(long, conflicts_with_all = ["keep_local", "keep_remote"])]
    pub force: bool,
    /// On a conflict, keep the vault's value
    #[arg(long, conflicts_with = "keep_remote")]
    pub keep_local: bool,
    /// On a conflict, keep SSM's value
    #[arg(long)]
    pub keep_remote: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("diff"))]
pub struct DiffArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Every scope in the vault, one report each
    #[arg(long, conflicts_with = "scope")]
    pub all: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Exit 0 when in sync, 9 when the sides differ, 8 when a secret changed on both
    #[arg(long)]
    pub exit_code: bool,
}

// What push and pull share: the scope, how to reach SSM, how to settle conflicts, and
// whether to ask before changing anything.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Every scope in the vault in one run: one plan, one confirmation, one report per scope (push: one write budget for all)
    #[arg(long, conflicts_with = "scope")]
    pub all: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub conflicts: ConflictArgs,
    /// Apply without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("push"))]
pub struct PushArgs {
    #[command(flatten)]
    pub sync: SyncArgs,
    /// Also delete parameters under the scope's prefix that the vault does not have
    #[arg(long)]
    pub prune: bool,
    /// KMS key for SecureString encryption [default: the account's alias/aws/ssm, as Amplify]
    #[arg(long, value_name = "KEY_ID")]
    pub kms_key_id: Option<String>,
    /// SSM tier for every write [default: Standard, Advanced for values over 4 KB]
    #[arg(long, value_enum)]
    pub tier: Option<Tier>,
    /// Ceiling on SSM write calls per second; the rate adapts below it
    #[arg(long, value_name = "N", default_value_t = 10.0, value_parser = positive_rate)]
    pub max_tps: f64,
    /// Calls in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Tag every parameter pushed (repeatable; adds to config.toml's [tags]); only missing or different tags are sent, with AddTagsToResource, never as a new version
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = crate::ssm::tags::parse_tag)]
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("pull"))]
pub struct PullArgs {
    #[command(flatten)]
    pub sync: SyncArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("history"))]
pub struct HistoryArgs {
    /// Secret name
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only the vault's versions; SSM is not asked
    #[arg(long)]
    pub local: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("rollback"))]
pub struct RollbackArgs {
    /// Secret name
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The version to make current again: the vault's (see 'history'), or with --remote SSM's
    #[arg(long, value_name = "VERSION", value_parser = clap::value_parser!(u32).range(1..))]
    pub to: u32,
    /// Roll SSM back: read SSM's VERSION (name:VERSION) and write it as a new SSM version, and store it in the vault too
    #[arg(long)]
    pub remote: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Roll back without asking (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = docs::after_long_help("doctor"))]
pub struct DoctorArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// SSM parameter tiers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Tier {
    Standard,
    Advanced,
    IntelligentTiering,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n > 0.0 && n <= 10_000.0 => Ok(n),
        _ => Err("a rate must be a number above 0 and at most 10000".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Cli::parse_from` against clap's own parse of the same line (global options copied
    /// into every command): the same result, or the same error.
    #[test]
    fn parsing_with_the_options_built_into_the_running_command_matches_clap() {
        let lines = [
            "get X",
            "get X --json",
            "--json get X",
            "get --json X",
            "-v get X -vv",
            "-vv get X",
            "--vault /a get X",
            "--vault=/a get X --vault=/b",
            "get X --vault /b",
            "--app-id d1a2b3c4d5e6f7 path X --branch main --app-id d9a9b9c9d9e9f9",
            "--app-name a path X --sandbox=bob --app-name b",
            "path X --sandbox=bob --app-name=myapp",
            "--no-input set X --stdin",
            "set X --stdin --no-input",
            "rm X --json",
            "config get app-id --json",
            "--json config set app-id d1a2b3c4d5e6f7 -v",
            "recipients list --vault /v",
            "get X --bogus",
            "--bogus get X",
            "get",
            "gett X",
            "--vault",
            "get X --vault",
            "-- get X",
            "list -- --json",
            "-vx get X",
            "push --dry-run --json --branch main",
            "exec -- sh -c --json",
            "export --format dotenv --branch main --json",
        ];
        for line in lines {
            let args: Vec<std::ffi::OsString> = std::iter::once("ampsecret")
                .chain(line.split(' '))
                .map(Into::into)
                .collect();
            let ours = Cli::parse_from(args.clone())
                .map(|cli| format!("{cli:?}"))
                .map_err(|e| e.to_string());
            let clap = Cli::try_parse_from(args)
                .map(|cli| format!("{cli:?}"))
                .map_err(|e| e.to_string());
            assert_eq!(ours, clap, "{line}");
        }
    }

    #[test]
    fn the_running_command_is_found_past_options_and_their_values() {
        use clap::CommandFactory;
        let command = Cli::command();
        let found = |line: &str| {
            let args: Vec<std::ffi::OsString> = std::iter::once("ampsecret")
                .chain(line.split(' '))
                .map(Into::into)
                .collect();
            invoked_command(&command, &args)
        };
        assert_eq!(found("get X").as_deref(), Some("get"));
        assert_eq!(found("--vault get list X").as_deref(), Some("list"));
        assert_eq!(found("--vault=get list").as_deref(), Some("list"));
        assert_eq!(found("-vv --json rm X").as_deref(), Some("remove"));
        assert_eq!(
            found("--app-name x config get app-id").as_deref(),
            Some("config")
        );
        // Help, an unknown option or command, or none: clap's own way.
        for line in [
            "get --help",
            "get X -h",
            "help get",
            "--bogus get",
            "gett",
            "-- get",
            "-x get",
        ] {
            assert_eq!(found(line), None, "{line}");
        }
    }
}
