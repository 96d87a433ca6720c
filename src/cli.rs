//! The command-line interface, declared with clap. Completions and man pages are generated
//! from this definition, so every flag's help line is also its documentation.

use crate::commands::completions::{branch_names, sandbox_ids, secret_names};
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCandidates;
use std::path::PathBuf;

/// The environment table, shared by `--help` and the man page.
macro_rules! environment_table {
    () => {
        "Environment:
  AMPSECRET_VAULT          vault directory (like --vault)
  AMPSECRET_IDENTITY       the age secret key (AGE-SECRET-KEY-1…), for CI
  AMPSECRET_IDENTITY_FILE  a file holding the age secret key
  AMPSECRET_PASSPHRASE     the passphrase of a passphrase vault, for CI
  AMPSECRET_NO_KEYRING     set to 1 to skip the OS keyring (use the identity file)
  AMPSECRET_NO_INPUT       set to 1 to never prompt (like --no-input)
  AWS_APP_ID               Amplify app id (like --app-id)
  AWS_BRANCH               default branch scope (set by Amplify Hosting)
  AWS_PROFILE, AWS_REGION  AWS profile and region for push, pull and diff
  AWS_ENDPOINT_URL_SSM     SSM endpoint override (also AWS_ENDPOINT_URL)
  NO_COLOR                 disable colour"
    };
}

/// The exit-code table (keep in step with `error::exit`).
macro_rules! exit_code_table {
    () => {
        "Exit codes:
  0    success
  1    unexpected failure (I/O, lock, bug)
  2    usage error, or input needed where no prompt is allowed
  3    not found (secret, scope or vault)
  4    cannot decrypt: no key, wrong key, damaged vault or newer format
  5    invalid input: a name or value that Amplify or SSM refuses
  6    remote error: SSM unreachable or refused; nothing applied
  7    partial: some remote changes applied, some not (re-run converges)
  8    conflict: both sides changed a secret and no resolution was chosen
  130  cancelled at a prompt; nothing changed"
    };
}

pub const ENVIRONMENT: &str = environment_table!();
pub const EXIT_CODES: &str = exit_code_table!();

#[derive(Debug, Parser)]
#[command(
    name = "ampsecret",
    version,
    about = "A local, age-encrypted vault for AWS Amplify Gen 2 secrets",
    long_about = "A local, age-encrypted vault for AWS Amplify Gen 2 secrets, per branch, per sandbox \
and shared by the whole app, that maps every name to exactly the SSM parameter Amplify reads.",
    after_help = "Run 'ampsecret help <command>' for examples.",
    after_long_help = concat!(environment_table!(), "\n\n", exit_code_table!()),
    propagate_version = true,
    infer_subcommands = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
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

/// Which scope a command works on. With none given: `$AWS_BRANCH`, else the git branch.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "scope", multiple = false)]
pub struct ScopeArgs {
    /// A branch deployment [default: $AWS_BRANCH, else the current git branch]
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(branch_names))]
    pub branch: Option<String>,

    /// A personal cloud sandbox; ID defaults to your OS account name (write --sandbox=ID)
    #[arg(long, value_name = "ID", num_args = 0..=1, require_equals = true, default_missing_value = "", add = ArgValueCandidates::new(sandbox_ids))]
    pub sandbox: Option<String>,

    /// The app-wide scope shared by all branches
    #[arg(long)]
    pub shared: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the vault and its key
    #[command(
        after_long_help = "Examples:\n  ampsecret init --app-id d1a2b3c4d5e6f7\n  AMPSECRET_PASSPHRASE=… ampsecret init --passphrase --app-id d1a2b3c4d5e6f7"
    )]
    Init(InitArgs),

    /// Store a secret (hidden prompt, --stdin or --file; never from the command line)
    #[command(
        after_long_help = "Examples:\n  ampsecret set MY_API_KEY\n  echo -n \"$TOKEN\" | ampsecret set STRIPE_KEY --stdin --shared\n  ampsecret set TLS_KEY --file key.pem --branch main"
    )]
    Set(SetArgs),

    /// Print a secret's value
    #[command(
        after_long_help = "Prints the value exactly; a newline is added only on a terminal.\n\nExamples:\n  ampsecret get MY_API_KEY --branch main\n  ampsecret get MY_API_KEY --sandbox --json\n  ampsecret get MY_API_KEY --effective --branch main"
    )]
    Get(GetArgs),

    /// List secret names, scopes and update times (never values)
    #[command(
        after_long_help = "With --effective, each name is shown with where a deployment of the scope takes its value \
from: the scope itself, else the shared scope (a sandbox falls back to the vault's shared scope; in SSM \
that is /amplify/shared/<package.json name>).\n\nExamples:\n  ampsecret list --branch main\n  ampsecret list --all --json\n  ampsecret list --effective --branch main"
    )]
    List(ListArgs),

    /// Delete a secret from the vault
    #[command(
        visible_alias = "rm",
        after_long_help = "Examples:\n  ampsecret remove MY_API_KEY\n  ampsecret remove MY_API_KEY --shared --yes"
    )]
    Remove(RemoveArgs),

    /// Print the SSM parameter name Amplify uses for a secret
    #[command(
        after_long_help = "Examples:\n  ampsecret path MY_API_KEY --branch feature/login\n  ampsecret path --prefix --sandbox"
    )]
    Path(PathArgs),

    /// Show how the vault and SSM differ (names and states; never values)
    #[command(
        after_long_help = "States: unchanged, only in the vault, only in SSM, changed in the vault, changed in SSM, changed on both sides, deleted in SSM.\n\nExamples:\n  ampsecret diff --branch main\n  ampsecret diff --sandbox --json"
    )]
    Diff(DiffArgs),

    /// Write the scope's secrets to SSM under Amplify's paths (plan, confirm, apply)
    #[command(
        after_long_help = "Writes SecureString parameters exactly as Amplify does. Unchanged secrets are skipped; a secret changed in SSM since the last sync is never overwritten without --keep-local or --force.\n\nExamples:\n  ampsecret push --branch main\n  ampsecret push --shared --yes --json\n  ampsecret push --sandbox --dry-run\n  ampsecret push --branch main --prune"
    )]
    Push(PushArgs),

    /// Bring the scope's secrets from SSM into the vault
    #[command(
        after_long_help = "A secret changed in the vault since the last sync is never overwritten without --keep-remote or --force.\n\nExamples:\n  ampsecret pull --sandbox\n  ampsecret pull --branch main --keep-remote --json"
    )]
    Pull(PullArgs),
    /// Run a command with the scope's effective secrets as environment variables
    #[command(
        after_long_help = "Each effective secret (the scope's value, else the shared one) becomes an environment \
variable of COMMAND, over any variable of the same name. AMPSECRET_IDENTITY and AMPSECRET_PASSPHRASE are not \
passed on. ampsecret prints nothing itself when COMMAND starts; it exits with COMMAND's status (128+N when \
COMMAND is killed by signal N), and forwards SIGINT, SIGTERM and SIGHUP sent to it.\n\nExamples:\n  \
ampsecret exec -- npm run dev\n  ampsecret exec --branch main --strict DATABASE_URL -- node scripts/migrate.js\n  \
ampsecret exec --sandbox --pristine -- env"
    )]
    Exec(ExecArgs),

    /// Print a scope's secrets as dotenv, shell, JSON or GitHub Actions environment
    #[command(
        after_long_help = "Values are quoted so that each format's consumer reads them back exactly: dotenv \
parsers, 'set -a; source FILE' in bash, JSON parsers, and the $GITHUB_ENV file of GitHub Actions. With \
--format github the values go to stdout in $GITHUB_ENV's NAME<<DELIMITER form and the ::add-mask:: \
commands (one per line of each value) go to stderr, where the runner reads them without writing them \
into the env file.\n\nExamples:\n  ampsecret export --branch main > .env.local\n  \
ampsecret export --format shell --effective > secrets.sh && (set -a; . ./secrets.sh; ./run.sh)\n  \
ampsecret export --format github --effective --branch \"$GITHUB_REF_NAME\" >> \"$GITHUB_ENV\"\n  \
ampsecret export --format json --shared | jq keys"
    )]
    Export(ExportArgs),

    /// Store the secrets of a dotenv or JSON file in a scope, after showing a plan
    #[command(
        after_long_help = "The whole file is read and checked first: a line that does not parse, a name Amplify \
refuses or a value SSM refuses stops the import with its line number, and nothing is stored. The plan \
(added, changed, unchanged; never values) is shown and confirmed on a terminal; elsewhere pass --yes. \
Dotenv values are taken literally: '$' substitution is refused, not expanded.\n\nExamples:\n  \
ampsecret import .env.production --branch main\n  ampsecret import secrets.json --format json --shared --yes\n  \
ampsecret import .env --sandbox --dry-run"
    )]
    Import(ImportArgs),

    /// Check that every secret() of the amplify/ backend has a value in a scope
    #[command(
        after_long_help = "Reads the backend sources under amplify/ (.ts, .tsx, .js, .mjs, .cjs, .mts, .cts) \
with a JavaScript/TypeScript parser, finds every secret('NAME') of @aws-amplify/backend and reports, \
with file:line, each name without an effective value in the scope (the scope's value, else the shared \
one). Exits 3 when one is missing, so CI can stop a deploy. Also warns where a defineFunction \
environment holds a literal that looks like a credential: Amplify writes those in plaintext into build \
artifacts.\n\nExamples:\n  ampsecret check --branch main\n  ampsecret check --sandbox --json"
    )]
    Check(CheckArgs),

    /// Print a shell completion script
    #[command(
        after_long_help = "On TAB the script asks ampsecret for candidates, so secret names (of the scope the \
line selects) and the vault's branches and sandboxes complete too; never values, and never a prompt. \
For zsh, put the file in a directory of $fpath.\n\nExamples:\n  ampsecret completions bash > ~/.local/share/bash-completion/completions/ampsecret\n  ampsecret completions zsh > ~/.zfunc/_ampsecret\n  ampsecret completions fish > ~/.config/fish/completions/ampsecret.fish"
    )]
    Completions(CompletionsArgs),

    /// Print or install the manual pages
    #[command(
        after_long_help = "Without --dir, prints ampsecret(1) for reading with 'man -l -'.\n\nExamples:\n  ampsecret man --dir ~/.local/share/man/man1\n  ampsecret man | man -l -"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Encrypt with a passphrase (scrypt) instead of a key in the OS keyring
    #[arg(long)]
    pub passphrase: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Secret name: letters, digits, '_', '.', '-'
    #[arg(add = ArgValueCandidates::new(secret_names))]
    pub name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Read the value from standard input (to EOF; one trailing newline is dropped)
    #[arg(long, conflicts_with = "file")]
    pub stdin: bool,
    /// Read the value from a file, exactly
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<PathBuf>,
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
pub struct GetArgs {
    #[command(flatten)]
    pub target: NameArgs,
    /// Print what a deployment of the scope resolves: its value, else the shared one
    #[arg(long)]
    pub effective: bool,
}

#[derive(Debug, Args)]
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

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Start COMMAND from an empty environment plus PATH and HOME
    #[arg(long)]
    pub pristine: bool,
    /// Fail before starting COMMAND if one of these names has no effective value
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',', add = ArgValueCandidates::new(secret_names))]
    pub strict: Vec<String>,
    /// The command to run and its arguments, after '--'
    #[arg(value_name = "COMMAND", required = true, last = true, value_hint = clap::ValueHint::CommandWithArguments)]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format [default: dotenv; json with --json]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ExportFormat>,
    /// Export what a deployment of the scope resolves: its values, else the shared ones
    #[arg(long)]
    pub effective: bool,
}

#[derive(Debug, Args)]
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
    /// NAME='value' lines, as dotenv parsers read them
    Dotenv,
    /// export NAME='value' lines, for 'source' in bash, zsh or sh
    Shell,
    /// One JSON object of names to values
    Json,
    /// GitHub Actions' $GITHUB_ENV form (NAME<<DELIMITER), with ::add-mask:: on stderr
    Github,
}

/// What `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// NAME=value lines, read as the dotenvy crate does (no '$' substitution)
    Dotenv,
    /// One JSON object of names to string values
    Json,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print a script for
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (ampsecret.1, ampsecret-set.1, …) into DIR, creating it
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

/// How to reach AWS. Credentials come from the standard chain: environment, profiles, SSO,
/// credential processes, and `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL` for the endpoint.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS profile to use (SSO and credential_process profiles work) [default: $AWS_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region [default: $AWS_REGION, else the profile's region]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// How to settle a secret changed on the side a command would overwrite.
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
pub struct DiffArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
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
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub conflicts: ConflictArgs,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
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
