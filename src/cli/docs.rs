//! The documentation tables that `--help`, the man pages and the README's checks all read:
//! environment variables, files, and each command's prose and examples. Data, not text to
//! parse back.

use crate::error::EXIT_CODES;

/// Every environment variable ampsecret reads, once each.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("AMPSECRET_VAULT", "vault directory (like --vault)"),
    (
        "AMPSECRET_IDENTITY",
        "the age secret key (AGE-SECRET-KEY-1...), for CI",
    ),
    (
        "AMPSECRET_IDENTITY_FILE",
        "a file holding the age secret key",
    ),
    (
        "AMPSECRET_PASSPHRASE",
        "the passphrase of a passphrase vault, for CI",
    ),
    (
        "AMPSECRET_SSH_KEY",
        "1: open the vault with ~/.ssh/id_ed25519 (or id_rsa) when no other key is found",
    ),
    (
        "AMPSECRET_NO_KEYRING",
        "1: skip the OS keyring and use the identity file",
    ),
    ("AMPSECRET_NO_INPUT", "1: never prompt (like --no-input)"),
    (
        "AMPSECRET_LOCK_TIMEOUT",
        "seconds a writer waits for another writer's lock (default 30)",
    ),
    (
        "AMPSECRET_COMPLETE",
        "set by the completion scripts to ask for candidates; not for direct use",
    ),
    ("AWS_APP_ID", "Amplify app id (like --app-id)"),
    (
        "AWS_BRANCH",
        "default branch scope (set by Amplify Hosting)",
    ),
    (
        "AWS_PROFILE",
        "AWS profile for push, pull, diff, check --remote, exec --remote and export --remote (like --profile)",
    ),
    (
        "AWS_REGION",
        "AWS region of the SSM parameters (like --region)",
    ),
    (
        "AWS_ENDPOINT_URL_SSM",
        "another endpoint for SSM only (an emulator, a VPC endpoint)",
    ),
    ("AWS_ENDPOINT_URL", "another endpoint for every AWS service"),
    (
        "NO_COLOR",
        "no colour, even on a terminal (wins over CLICOLOR_FORCE)",
    ),
    (
        "CLICOLOR_FORCE",
        "colour even when output is not a terminal (not 0)",
    ),
];

/// The files ampsecret reads and writes.
pub const FILES: &[(&str, &str)] = &[
    (
        ".ampsecret/config.toml",
        "the vault's settings: format, vault id, app id, recipients, history, tags (plain text; \
         commit it; change them with 'ampsecret config set')",
    ),
    (
        ".ampsecret/vault.age",
        "the members and membership tokens, age-encrypted (commit it); a passphrase \
         vault keeps its secrets here too",
    ),
    (
        ".ampsecret/scope-<hash>.age",
        "one scope's secrets, history and bookkeeping, age-encrypted (commit them); the \
         name hashes the vault id and the scope",
    ),
    (
        ".ampsecret/.ampsecret-tmp-*",
        "a killed writer's leftover, removed by the next write (ignored by git); \
         writers lock the .ampsecret folder itself",
    ),
    (
        "$XDG_CONFIG_HOME/ampsecret/identities/<vault id>.txt",
        "the vault's key when no OS keyring is usable (mode 0600; back it up). \
         $XDG_CONFIG_HOME defaults to ~/.config; on macOS the directory is \
         ~/Library/Application Support",
    ),
];

/// What a command's help says beyond its flags.
pub struct CommandDoc {
    pub name: &'static str,
    /// Paragraphs after the one-line summary (may be empty).
    pub prose: &'static str,
    pub examples: &'static [&'static str],
}

/// Every command's prose and examples, in the order `--help` lists the commands.
pub const COMMANDS: &[CommandDoc] = &[
    CommandDoc {
        name: "init",
        prose: "",
        examples: &[
            "ampsecret init --app-id d1a2b3c4d5e6f7",
            "AMPSECRET_PASSPHRASE=… ampsecret init --passphrase --app-id d1a2b3c4d5e6f7",
        ],
    },
    CommandDoc {
        name: "config",
        prose: "The settings live in .ampsecret/config.toml, which is committed: every change is checked (an app id as Amplify writes it, a history of 1 to 100 versions, tags as SSM takes them) and written under the vault's lock, so the file never needs editing by hand. Recipients are the vault's members: change them with 'ampsecret recipients'.",
        examples: &[
            "ampsecret config list",
            "ampsecret config set app_id d1a2b3c4d5e6f7",
            "ampsecret config get app_id",
            "ampsecret config set history 20",
            "ampsecret config set tags.team web",
            "ampsecret config unset tags.team",
        ],
    },
    CommandDoc {
        name: "set",
        prose: "",
        examples: &[
            "ampsecret set MY_API_KEY",
            "echo -n \"$TOKEN\" | ampsecret set STRIPE_KEY --stdin --shared",
            "ampsecret set TLS_KEY --file key.pem --branch main",
        ],
    },
    CommandDoc {
        name: "get",
        prose: "Prints the value exactly; a newline is added only on a terminal.",
        examples: &[
            "ampsecret get MY_API_KEY --branch main",
            "ampsecret get MY_API_KEY --sandbox --json",
            "ampsecret get MY_API_KEY --effective --branch main",
        ],
    },
    CommandDoc {
        name: "list",
        prose: "With --effective, each name is shown with where a deployment of the scope takes its value from: the scope itself, else the shared namespace Amplify falls back to (shared for a branch, shared:<package.json name> for a sandbox, shared:<identifier> for a standalone deployment).",
        examples: &[
            "ampsecret list --branch main",
            "ampsecret list --all --json",
            "ampsecret list --effective --branch main",
        ],
    },
    CommandDoc {
        name: "remove",
        prose: "",
        examples: &[
            "ampsecret remove MY_API_KEY",
            "ampsecret remove MY_API_KEY --shared --yes",
        ],
    },
    CommandDoc {
        name: "path",
        prose: "",
        examples: &[
            "ampsecret path MY_API_KEY --branch feature/login",
            "ampsecret path --prefix --sandbox",
            "ampsecret path --prefix --standalone=prod",
            "ampsecret path API_KEY --shared=my-app",
        ],
    },
    CommandDoc {
        name: "diff",
        prose: "States: unchanged, only in the vault, only in SSM, changed in the vault, changed in SSM, changed on both sides, deleted in SSM.",
        examples: &[
            "ampsecret diff --branch main",
            "ampsecret diff --sandbox --json",
            "ampsecret diff --all",
        ],
    },
    CommandDoc {
        name: "push",
        prose: "Writes SecureString parameters exactly as Amplify does. Unchanged secrets are skipped; a secret changed in SSM since the last sync is never overwritten without --keep-local or --force.",
        examples: &[
            "ampsecret push --branch main",
            "ampsecret push --shared --yes --json",
            "ampsecret push --sandbox --dry-run",
            "ampsecret push --branch main --prune",
            "ampsecret push --all --yes",
        ],
    },
    CommandDoc {
        name: "pull",
        prose: "A secret changed in the vault since the last sync is never overwritten without --keep-remote or --force.",
        examples: &[
            "ampsecret pull --sandbox",
            "ampsecret pull --branch main --keep-remote --yes --json",
            "ampsecret pull --all --dry-run",
        ],
    },
    CommandDoc {
        name: "history",
        prose: "The vault keeps the last versions of each secret (config.toml's history, default 10), with when and which member changed them; SSM keeps its own (GetParameterHistory: version, time, LastModifiedUser). Both are listed side by side, and each SSM version is marked with the vault version whose value it holds, matched by SHA-256 digest. Values are never shown.",
        examples: &[
            "ampsecret history STRIPE_KEY --branch main",
            "ampsecret history STRIPE_KEY --shared --json",
            "ampsecret history STRIPE_KEY --local",
        ],
    },
    CommandDoc {
        name: "rollback",
        prose: "Makes the value of an earlier version current again as a new change: the vault's version VERSION (see 'history'), or with --remote SSM's version VERSION, read as name:VERSION and written to SSM as a new version (never a value printed), then stored in the vault so both sides agree. Shows the plan and asks, or takes --yes; --dry-run only shows it.",
        examples: &[
            "ampsecret rollback STRIPE_KEY --to 3 --branch main",
            "ampsecret rollback STRIPE_KEY --to 2 --remote --shared --yes",
        ],
    },
    CommandDoc {
        name: "doctor",
        prose: "One line per check, marked passed or failed (with the fix): the vault opens, where its key is, file modes, git's drivers; AWS credentials and their source, the Region, the SSM endpoint answers, read access to the scope's path and its shared namespace, Parameter Store's high-throughput setting, the Standard-tier parameter count against SSM's 10,000, and the KMS key Amplify decrypts with. A check the endpoint cannot answer shows ?, and one that does not apply -. Exits 0 when nothing failed, 10 otherwise. Timeouts are short and retries few, so a dead endpoint is named within seconds.",
        examples: &[
            "ampsecret doctor",
            "ampsecret doctor --sandbox --json",
            "ampsecret doctor --branch main --profile dev",
        ],
    },
    CommandDoc {
        name: "exec",
        prose: "Each effective secret (the scope's value, else the one of the shared namespace it falls back to) becomes an environment variable of COMMAND, over any variable of the same name. With --remote the values are read straight from SSM (the scope's path, then its shared namespace, as Amplify's function runtime does): no vault and no key, only AWS credentials and the app id (AWS_APP_ID and AWS_BRANCH, as Amplify Hosting sets them). --names or --from-backend limit the names, read with GetParameters in batches of ten. A secret whose name changes which program runs or what it loads (PATH, LD_*, DYLD_*, BASH_ENV, ENV, NODE_OPTIONS, PYTHONPATH, ...) is refused unless named with --allow-env. No AMPSECRET_* variable is passed on. ampsecret prints nothing itself when COMMAND starts; it exits with COMMAND's status (128+N when COMMAND is killed by signal N), and forwards SIGINT, SIGTERM and SIGHUP sent to it. With --mask (the default when CI is set; --no-mask turns it off) COMMAND's stdout and stderr pass through ampsecret, which replaces every secret value given to COMMAND, and each line of a multi-line one, with *** when it is at least 4 characters long (shorter values are not masked), also when COMMAND writes it in pieces. Output is passed on as soon as it is read, except a tail that could be the start of a value, held until the next output shows it is not. On a terminal COMMAND gets a pseudo-terminal of its own, so colours, prompts, Ctrl-C and window resizes keep working; elsewhere it gets pipes.",
        examples: &[
            "ampsecret exec -- npm run dev",
            "ampsecret exec --branch main --strict DATABASE_URL -- node scripts/migrate.js",
            "ampsecret exec --sandbox --pristine -- env",
            "ampsecret exec --mask --branch main -- npm test",
            "ampsecret exec --remote --from-backend --strict -- npm run build",
        ],
    },
    CommandDoc {
        name: "export",
        prose: "Values are quoted so that each format's reader reads them back exactly: --format dotenv for Node's dotenv, Next.js (@next/env) and Vite's loadEnv alike; --format python-dotenv for python-dotenv; 'set -a; source FILE' in bash; JSON parsers; and the $GITHUB_ENV file of GitHub Actions. A value a dotenv format's readers cannot all read back (Next.js and Vite expand $NAME, ${...} and \\$ where dotenv does not; Vite drops carriage returns; python-dotenv expands ${...}) stops the export before anything is written, naming each such secret: export those with --format json or --format shell, which carry any value. With --format github the values go to stdout in $GITHUB_ENV's NAME<<DELIMITER form and the ::add-mask:: commands (one per line of each value) go to stderr, where the runner reads them without writing them into the env file. With --remote the effective values are read straight from SSM, with no vault and no key.",
        examples: &[
            "ampsecret export --branch main > .env.local",
            "ampsecret export --format python-dotenv --sandbox > .env",
            "ampsecret export --format shell --effective > secrets.sh && (set -a; . ./secrets.sh; ./run.sh)",
            "ampsecret export --format github --effective --branch \"$GITHUB_REF_NAME\" >> \"$GITHUB_ENV\"",
            "ampsecret export --format json --shared | jq keys",
            "ampsecret export --remote --names API_URL,STRIPE_KEY --strict > .env.production",
        ],
    },
    CommandDoc {
        name: "import",
        prose: "The whole file is read and checked first: a line that does not parse, a name Amplify refuses or a value SSM refuses stops the import with its line number, and nothing is stored. The plan (added, changed, unchanged; never values) is shown and confirmed on a terminal; elsewhere pass --yes. A dotenv file is read as Node's dotenv reads it ('$' is literal; the few lines where its rules surprise are refused with their number); --format python-dotenv reads it as python-dotenv does and refuses a '${...}' it would expand.",
        examples: &[
            "ampsecret import .env.production --branch main",
            "ampsecret import secrets.json --format json --shared --yes",
            "ampsecret import .env --sandbox --dry-run",
            "ampsecret import .env --format python-dotenv --shared --yes",
        ],
    },
    CommandDoc {
        name: "copy",
        prose: "Scopes are written as 'list' shows them: branch:NAME, sandbox:ID, standalone:ID, shared, shared:NS. Without NAMEs every secret of --from is copied. A name --to already holds with another value is reported and kept unless --overwrite is given. The plan (never values) is confirmed on a terminal; elsewhere pass --yes. Local, like set: a following push publishes.",
        examples: &[
            "ampsecret copy --from branch:staging --to branch:feature/x",
            "ampsecret copy --from shared --to shared:my-app API_KEY --yes",
            "ampsecret copy --from sandbox:template --to sandbox:alice --overwrite --dry-run",
        ],
    },
    CommandDoc {
        name: "check",
        prose: "Reads the backend sources under amplify/ (.ts, .tsx, .js, .mjs, .cjs, .mts, .cts) with a JavaScript/TypeScript parser, finds every secret('NAME') of @aws-amplify/backend and reports, with file:line, each name without an effective value in the scope (the scope's value, else the shared one). Exits 3 when one is missing, so CI can stop a deploy. Also warns where a defineFunction environment holds a literal that looks like a credential: Amplify writes those in plaintext into build artifacts.",
        examples: &[
            "ampsecret check --branch main",
            "ampsecret check --sandbox --json",
        ],
    },
    CommandDoc {
        name: "completions",
        prose: "On TAB the script asks ampsecret for candidates, so secret names (of the scope the line selects) and the vault's branches and sandboxes complete too; never values, and never a prompt. For zsh, put the file in a directory of $fpath.",
        examples: &[
            "ampsecret completions bash > ~/.local/share/bash-completion/completions/ampsecret",
            "ampsecret completions zsh > ~/.zfunc/_ampsecret",
            "ampsecret completions fish > ~/.config/fish/completions/ampsecret.fish",
        ],
    },
    CommandDoc {
        name: "man",
        prose: "Without --dir, prints ampsecret(1) for reading with 'man -l -'.",
        examples: &[
            "ampsecret man --dir ~/.local/share/man/man1",
            "ampsecret man | man -l -",
        ],
    },
    CommandDoc {
        name: "recipients",
        prose: "The vault is encrypted to its members' keys. The member list lives inside the encrypted vault, so only a member can change it; config.toml repeats the keys for review, and a key added there by hand is refused until a member adds it with 'recipients add'. Removing a member re-encrypts the vault without them and lists every secret they could read: rotate each at its source (list and diff mark them 'to rotate' until their value changes). You cannot remove the last member, nor yourself without --remove-myself.",
        examples: &[
            "ampsecret recipients list",
            "ampsecret recipients add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --name bob",
            "ampsecret recipients add \"$(cat carol.pub)\" --name carol",
            "ampsecret recipients remove bob",
        ],
    },
    CommandDoc {
        name: "join",
        prose: "Run in a fresh clone of a project with a vault: makes your key for this vault (kept in the OS keyring, or a 0600 file) and prints the line to send to a member. Once they run it and commit, pull the commit and the vault opens. With an SSH key instead (AMPSECRET_SSH_KEY=1 or AMPSECRET_IDENTITY_FILE), send your public key line.",
        examples: &["ampsecret join --name bob"],
    },
    CommandDoc {
        name: "git-setup",
        prose: "Adds '.ampsecret/*.age merge=ampsecret diff=ampsecret' (vault.age and each scope's file) to .gitattributes (commit it) and the drivers to this clone's .git/config (each teammate runs this once; 'init' does it too). The merge driver merges two branches' vaults secret by secret: disjoint changes merge cleanly, and a real conflict fails the merge naming each secret, never a value, until 'ampsecret resolve' settles it. The diff driver shows which secrets a commit added, changed or removed. Running it again changes nothing.",
        examples: &["ampsecret git-setup"],
    },
    CommandDoc {
        name: "resolve",
        prose: "After a git merge stopped on vault conflicts: keeps our value (--ours) or takes theirs (--theirs) for the named secrets, or all of them, keeping every change that merged cleanly. When none is left it stages the vault ('git add'); then commit the merge. Reading commands keep working meanwhile, with our values. --theirs with no name also takes in the scope files that the branch being merged (git merge --no-commit) made before a member removal, refused until then: encrypted again to the members, their secrets marked to rotate.",
        examples: &[
            "ampsecret resolve --theirs",
            "ampsecret resolve STRIPE_KEY --ours",
        ],
    },
];

/// The documentation of command `name`.
pub fn command(name: &str) -> &'static CommandDoc {
    COMMANDS
        .iter()
        .find(|doc| doc.name == name)
        .unwrap_or_else(|| panic!("no documentation for command {name}"))
}

/// The text `ampsecret help COMMAND` shows after the flags: prose, then examples.
pub fn after_long_help(name: &str) -> String {
    let doc = command(name);
    let mut text = String::new();
    if !doc.prose.is_empty() {
        text.push_str(doc.prose);
        text.push_str("\n\n");
    }
    text.push_str("Examples:");
    for example in doc.examples {
        text.push_str("\n  ");
        text.push_str(example);
    }
    text
}

/// The text `ampsecret --help` shows last: the environment and the exit codes.
pub fn top_after_long_help() -> String {
    let mut text = String::from("Environment:");
    let width = ENVIRONMENT
        .iter()
        .map(|(var, _)| var.len())
        .max()
        .unwrap_or(0);
    for (var, what) in ENVIRONMENT {
        text.push_str(&format!("\n  {var:width$}  {what}"));
    }
    text.push_str("\n\nExit codes:");
    for (code, what) in EXIT_CODES {
        text.push_str(&format!("\n  {code:<4} {what}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of the README table under `heading`: the first cell of each, unquoted.
    fn readme_table(heading: &str) -> Vec<String> {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let section = readme
            .split(&format!("\n## {heading}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("README has a {heading} section"));
        section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|row| {
                row.split('|')
                    .nth(1)
                    .unwrap()
                    .trim()
                    .trim_matches('`')
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn readme_lists_every_variable_once() {
        let documented: Vec<&str> = ENVIRONMENT.iter().map(|(var, _)| *var).collect();
        let mut readme = readme_table("Environment");
        assert_eq!(readme, documented);
        readme.sort();
        readme.dedup();
        assert_eq!(readme.len(), documented.len(), "each variable once");
    }

    #[test]
    fn readme_lists_every_exit_code() {
        let documented: Vec<String> = EXIT_CODES.iter().map(|(c, _)| c.to_string()).collect();
        assert_eq!(readme_table("Exit codes"), documented);
    }

    #[test]
    fn every_command_has_examples() {
        for doc in COMMANDS {
            assert!(!doc.examples.is_empty(), "{}", doc.name);
            assert!(
                doc.examples
                    .iter()
                    .all(|e| e.starts_with("ampsecret ") || e.contains(" ampsecret ")),
                "{}",
                doc.name
            );
        }
    }
}
