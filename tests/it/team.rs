//! A vault a team shares through git, through the real binary, real git, real age keys and a
//! real SSH key: members join, are added and removed; a hand-edited config.toml never adds a
//! recipient; a forged vault.age is refused; branches merge secret by secret.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::BIN;

/// One person: their own HOME and config directory (so their own keys and trust records),
/// working in `dir`.
struct User {
    home: PathBuf,
}

impl User {
    fn new(root: &Path, name: &str) -> User {
        let home = root.join(format!("home-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        User { home }
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("AMPSECRET_NO_KEYRING", "1")
            // One scope whatever branch is checked out: the branches here are git's.
            .env("AWS_BRANCH", "main")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .current_dir(dir);
        command
    }

    /// `ampsecret ARGS` in `dir`, with `stdin`.
    fn amp(&self, dir: &Path, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(BIN, dir)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// `ampsecret ARGS`, which must succeed; its stdout.
    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.amp(dir, args, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    fn set(&self, dir: &Path, name: &str, value: &str) {
        let out = self.amp(dir, &["set", name, "--stdin", "--yes"], value);
        assert!(out.status.success(), "set {name}: {}", text(&out.stderr));
    }

    fn get(&self, dir: &Path, name: &str) -> String {
        self.ok(dir, &["get", name])
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git", dir).args(args).output().unwrap()
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        assert!(
            out.status.success(),
            "git {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Alice's repository with a vault holding two secrets, committed.
fn alice_repo(root: &Path) -> (User, PathBuf) {
    let alice = User::new(root, "alice");
    let repo = root.join("alice-repo");
    std::fs::create_dir_all(&repo).unwrap();
    alice.git_ok(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("package.json"), r#"{"name":"team-app"}"#).unwrap();
    alice.ok(&repo, &["init", "--app-id", "d1a2b3c4d5e6f7"]);
    alice.set(&repo, "DB_PASSWORD", "alice-db");
    alice.set(&repo, "API_KEY", "alice-api");
    alice.git_ok(&repo, &["add", "-A"]);
    alice.git_ok(&repo, &["commit", "-qm", "vault"]);
    (alice, repo)
}

/// Checks that no output of `out` holds any of `values`.
fn shows_no_value(out: &Output, values: &[&str]) {
    for value in values {
        for stream in [&out.stdout, &out.stderr] {
            assert!(!text(stream).contains(value), "{value} shown");
        }
    }
}

#[test]
fn members_join_are_added_and_removed_and_the_removal_lists_what_to_rotate() {
    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());

    // Bob, with an age key: join in a fresh clone prints the line to send.
    let bob = User::new(root.path(), "bob");
    let bob_repo = root.path().join("bob-repo");
    bob.git_ok(
        root.path(),
        &["clone", "-q", repo.to_str().unwrap(), "bob-repo"],
    );
    let line = bob.ok(&bob_repo, &["join", "--name", "bob"]);
    assert!(line.starts_with("ampsecret recipients add 'age1"), "{line}");
    let refused = bob.amp(&bob_repo, &["get", "DB_PASSWORD"], "");
    assert_eq!(refused.status.code(), Some(4), "not a member yet");
    let bob_key = line.split('\'').nth(1).unwrap().to_owned();
    alice.ok(&repo, &["recipients", "add", &bob_key, "--name", "bob"]);

    // Carol, with a real SSH ed25519 key.
    let carol = User::new(root.path(), "carol");
    let ssh_dir = carol.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let keygen = carol
        .command("ssh-keygen", &carol.home)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "carol@laptop", "-f"])
        .arg(ssh_dir.join("id_ed25519"))
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    let carol_pub = std::fs::read_to_string(ssh_dir.join("id_ed25519.pub")).unwrap();
    alice.ok(&repo, &["recipients", "add", carol_pub.trim()]);
    let listed = alice.ok(&repo, &["recipients", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let names: Vec<&str> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[1..], ["bob", "carol@laptop"], "{listed}");
    assert_eq!(listed["members"][0]["you"], true);
    alice.git_ok(&repo, &["commit", "-qam", "add bob and carol"]);

    bob.git_ok(&bob_repo, &["pull", "-q", "--ff-only"]);
    assert_eq!(bob.get(&bob_repo, "DB_PASSWORD"), "alice-db");
    let carol_repo = root.path().join("carol-repo");
    carol.git_ok(
        root.path(),
        &["clone", "-q", repo.to_str().unwrap(), "carol-repo"],
    );
    let with_ssh = |user: &User, args: &[&str]| {
        user.command(BIN, &carol_repo)
            .env("AMPSECRET_SSH_KEY", "1")
            .args(args)
            .output()
            .unwrap()
    };
    let got = with_ssh(&carol, &["get", "API_KEY"]);
    assert!(got.status.success(), "{}", text(&got.stderr));
    assert_eq!(text(&got.stdout), "alice-api");

    // Removing Bob: the vault is re-encrypted without him, and what he could read is listed.
    let removal = alice.amp(&repo, &["recipients", "remove", "bob", "--yes"], "");
    assert!(removal.status.success(), "{}", text(&removal.stderr));
    assert_eq!(
        text(&removal.stdout),
        "branch:main  API_KEY\nbranch:main  DB_PASSWORD\n"
    );
    shows_no_value(&removal, &["alice-db", "alice-api"]);
    let listed = alice.ok(&repo, &["list"]);
    assert!(listed.contains("to rotate"), "{listed}");
    alice.git_ok(&repo, &["commit", "-qam", "remove bob"]);
    bob.git_ok(&bob_repo, &["pull", "-q", "--ff-only"]);
    let locked_out = bob.amp(&bob_repo, &["get", "DB_PASSWORD"], "");
    assert_eq!(
        locked_out.status.code(),
        Some(4),
        "{}",
        text(&locked_out.stderr)
    );
    // A new value is the rotation: the mark goes.
    alice.set(&repo, "DB_PASSWORD", "rotated-db");
    let json = alice.ok(&repo, &["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let marks: Vec<(String, bool)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["to_rotate"] == true,
            )
        })
        .collect();
    assert_eq!(
        marks,
        [
            ("API_KEY".to_owned(), true),
            ("DB_PASSWORD".to_owned(), false)
        ]
    );

    // Neither the last member nor yourself, by accident.
    let my_name = listed_name_of_you(&alice, &repo);
    let me_again = alice.amp(&repo, &["recipients", "remove", &my_name, "--yes"], "");
    assert_eq!(
        me_again.status.code(),
        Some(2),
        "{}",
        text(&me_again.stderr)
    );
    assert!(text(&me_again.stderr).contains("--remove-myself"));
}

fn listed_name_of_you(user: &User, repo: &Path) -> String {
    let listed: serde_json::Value =
        serde_json::from_str(&user.ok(repo, &["recipients", "list", "--json"])).unwrap();
    listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["you"] == true)
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_last_member_cannot_be_removed() {
    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());
    let name = listed_name_of_you(&alice, &repo);
    let out = alice.amp(
        &repo,
        &["recipients", "remove", &name, "--yes", "--remove-myself"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("last member"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_hand_edited_config_never_adds_a_recipient() {
    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    let config_path = repo.join(".ampsecret/config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    // One line in a pull request: the attacker's key beside the owner's.
    let edited = config.replace("recipients = [", &format!("recipients = [\"{attacker}\", "));
    assert_ne!(edited, config);
    std::fs::write(&config_path, &edited).unwrap();
    let vault_before = std::fs::read(repo.join(".ampsecret/vault.age")).unwrap();

    let out = alice.amp(&repo, &["set", "NEW", "--stdin"], "value");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let error = text(&out.stderr);
    assert!(
        error.contains(&attacker[..20]) && error.contains("recipients add"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(repo.join(".ampsecret/vault.age")).unwrap(),
        vault_before,
        "nothing was encrypted to the extra key"
    );
    // Reading still works, and list warns.
    assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");
    let listing = alice.amp(&repo, &["recipients", "list"], "");
    assert!(text(&listing.stderr).contains("no member added"));

    // Replacing the owner's key instead: still refused, and the owner can still read.
    let owner_key = config
        .lines()
        .find(|l| l.contains("age1"))
        .and_then(|l| l.split('"').nth(1))
        .unwrap()
        .to_owned();
    std::fs::write(&config_path, config.replace(&owner_key, &attacker)).unwrap();
    let out = alice.amp(&repo, &["set", "NEW", "--stdin"], "value");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");
}

#[test]
fn a_forged_vault_is_refused_and_does_not_poison_trust() {
    use ampsecret::scope::ScopeKey;
    use ampsecret::secret::SecretValue;
    use ampsecret::vault::Vault;
    use ampsecret::vault::crypto::{Seal, seal};

    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());
    let vault_path = repo.join(".ampsecret/vault.age");
    let real = std::fs::read(&vault_path).unwrap();

    // An attacker holding only the committed public key encrypts a payload of their own.
    let config = std::fs::read_to_string(repo.join(".ampsecret/config.toml")).unwrap();
    let public: age::x25519::Recipient = config
        .lines()
        .find(|l| l.contains("age1"))
        .and_then(|l| l.split('"').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    let mut forged = Vault::default();
    let main = ScopeKey::Branch("main".into());
    forged.set(
        &main,
        "DB_PASSWORD",
        SecretValue::new("attacker-db".into()),
        &ampsecret::vault::Stamp::new(1, "test"),
    );
    forged.set(
        &main,
        "BASH_ENV",
        SecretValue::new("/tmp/evil.sh".into()),
        &ampsecret::vault::Stamp::new(1, "test"),
    );
    let sealed = seal(&forged.encode(), Seal::Recipients(&[&public])).unwrap();
    std::fs::write(&vault_path, sealed).unwrap();

    for args in [
        &["get", "DB_PASSWORD"][..],
        &["list"],
        &["exec", "--", "env"],
    ] {
        let out = alice.amp(&repo, args, "");
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("not written by a member"));
        shows_no_value(&out, &["attacker-db", "/tmp/evil.sh"]);
    }
    // Restored, the real vault opens as before.
    std::fs::write(&vault_path, real).unwrap();
    assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");
}

#[test]
fn branches_merge_secret_by_secret_and_conflicts_resolve_with_one_command() {
    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());

    // Two branches that each add a secret merge with plain git merge.
    alice.git_ok(&repo, &["checkout", "-q", "-b", "feature"]);
    alice.set(&repo, "FEATURE_ONLY", "f");
    alice.git_ok(&repo, &["commit", "-qam", "feature secret"]);
    alice.git_ok(&repo, &["checkout", "-q", "main"]);
    alice.set(&repo, "MAIN_ONLY", "m");
    alice.git_ok(&repo, &["commit", "-qam", "main secret"]);
    alice.git_ok(&repo, &["merge", "-q", "--no-edit", "feature"]);
    assert_eq!(alice.get(&repo, "FEATURE_ONLY"), "f");
    assert_eq!(alice.get(&repo, "MAIN_ONLY"), "m");
    // git log -p names the secrets a commit changed, never a value.
    let shown = alice.git_ok(&repo, &["log", "-p", "-1", "HEAD^2", "--", ".ampsecret"]);
    assert!(shown.contains("+  branch:main  FEATURE_ONLY"), "{shown}");
    assert!(!shown.contains("alice-db"));

    // A real conflict: both change DB_PASSWORD, and each side makes a clean change too.
    alice.git_ok(&repo, &["checkout", "-q", "-b", "theirs"]);
    alice.set(&repo, "DB_PASSWORD", "theirs-db");
    alice.set(&repo, "THEIRS_CLEAN", "t");
    alice.git_ok(&repo, &["commit", "-qam", "theirs"]);
    alice.git_ok(&repo, &["checkout", "-q", "main"]);
    alice.set(&repo, "DB_PASSWORD", "ours-db");
    alice.set(&repo, "OURS_CLEAN", "o");
    alice.git_ok(&repo, &["commit", "-qam", "ours"]);
    let merge = alice.git(&repo, &["merge", "--no-edit", "theirs"]);
    assert!(!merge.status.success());
    let said = format!("{}{}", text(&merge.stdout), text(&merge.stderr));
    assert!(said.contains("branch:main  DB_PASSWORD"), "{said}");
    shows_no_value(&merge, &["theirs-db", "ours-db"]);
    // Reading works meanwhile, with our value; every clean change is there.
    assert_eq!(alice.get(&repo, "DB_PASSWORD"), "ours-db");
    assert_eq!(alice.get(&repo, "THEIRS_CLEAN"), "t");
    assert_eq!(alice.get(&repo, "OURS_CLEAN"), "o");

    let resolved = alice.amp(&repo, &["resolve", "--theirs"], "");
    assert!(resolved.status.success(), "{}", text(&resolved.stderr));
    shows_no_value(&resolved, &["theirs-db", "ours-db"]);
    assert_eq!(alice.get(&repo, "DB_PASSWORD"), "theirs-db");
    alice.git_ok(&repo, &["commit", "-q", "--no-edit"]);
    assert_eq!(alice.get(&repo, "OURS_CLEAN"), "o");
    let again = alice.amp(&repo, &["resolve", "--ours"], "");
    assert_eq!(again.status.code(), Some(3), "nothing left to resolve");
}

#[test]
fn membership_changes_on_two_branches_merge() {
    let root = tempfile::tempdir().unwrap();
    let (alice, repo) = alice_repo(root.path());
    let key = |_: usize| age::x25519::Identity::generate().to_public().to_string();
    let (bob, carol) = (key(1), key(2));
    alice.git_ok(&repo, &["checkout", "-q", "-b", "add-bob"]);
    alice.ok(&repo, &["recipients", "add", &bob, "--name", "bob"]);
    alice.git_ok(&repo, &["commit", "-qam", "bob"]);
    alice.git_ok(&repo, &["checkout", "-q", "main"]);
    alice.ok(&repo, &["recipients", "add", &carol, "--name", "carol"]);
    alice.git_ok(&repo, &["commit", "-qam", "carol"]);
    alice.git_ok(&repo, &["merge", "-q", "--no-edit", "add-bob"]);
    let listed: serde_json::Value =
        serde_json::from_str(&alice.ok(&repo, &["recipients", "list", "--json"])).unwrap();
    let mut keys: Vec<&str> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert!(
        keys.contains(&bob.as_str()) && keys.contains(&carol.as_str()),
        "{listed}"
    );
    assert!(
        listed["unreviewed"].as_array().unwrap().is_empty(),
        "{listed}"
    );
    // The merged vault is writable: config.toml and the member list agree.
    alice.set(&repo, "AFTER_MERGE", "x");
}

/// A member name is shown in lists, history and messages: control characters and invisible
/// direction overrides (which make one name read as another) are refused.
#[test]
fn member_names_with_control_or_direction_characters_are_refused() {
    let p = crate::support::Project::initialized();
    let bob = "age1ury3fwxqzltrjadpyuzqwcelqjvu5kt0fdzlgyzyyds5w64twenqf58vpv";
    let before = p.snapshot();
    for (name, shown) in [
        ("bob\u{202e}X", "bob\\u{202e}X"),
        ("bob\u{2066}", "bob\\u{2066}"),
        ("bob\x1b[2J", "bob\\u{1b}[2J"),
        ("bob\u{200b}", "bob\\u{200b}"),
    ] {
        p.cmd(&["recipients", "add", bob, "--name", name])
            .stderr(format!(
                "error: member name '{shown}' must be 1 to 100 visible characters (no control or \
                 direction-changing characters): pass another --name\n"
            ))
            .fails(5);
    }
    // join checks the name before it makes a key, so the line it prints works.
    p.cmd(&["join", "--name", "bob\u{202e}X"])
        .stderr(
            "error: member name 'bob\\u{202e}X' must be 1 to 100 visible characters (no control \
             or direction-changing characters): pass another --name\n",
        )
        .fails(5);
    assert!(before == p.snapshot());
    p.cmd(&["recipients", "add", bob, "--name", "bob"])
        .stderr_any()
        .stdout_any()
        .success();
}

/// With a file per scope, git merges a file one branch added without the merge driver: the
/// cases where that, or a removal, could undo a member removal or bring a secret back.
mod files_per_scope {
    use super::*;

    /// Alice's repository with Bob (a real age key) a member, committed; Bob's identity.
    fn with_bob(root: &Path) -> (User, PathBuf, age::x25519::Identity) {
        let (alice, repo) = alice_repo(root);
        let bob = age::x25519::Identity::generate();
        let public = bob.to_public().to_string();
        alice.ok(&repo, &["recipients", "add", &public, "--name", "bob"]);
        commit(&alice, &repo, "add bob");
        (alice, repo, bob)
    }

    fn set_shared(user: &User, repo: &Path, name: &str, value: &str) {
        let out = user.amp(repo, &["set", name, "--stdin", "--shared"], value);
        assert!(out.status.success(), "set {name}: {}", text(&out.stderr));
    }

    fn commit(user: &User, repo: &Path, message: &str) {
        user.git_ok(repo, &["add", "-A"]);
        user.git_ok(repo, &["commit", "-qm", message]);
    }

    fn shared_file(repo: &Path) -> PathBuf {
        ampsecret::vault::VaultDir::open(&repo.join(".ampsecret"))
            .unwrap()
            .scope_path(&ampsecret::scope::ScopeKey::Shared)
    }

    fn readable_by(identity: &age::x25519::Identity, file: &Path) -> bool {
        let sealed = std::fs::read(file).unwrap();
        let ids = [identity.clone()];
        ampsecret::vault::crypto::unseal(
            &sealed,
            ampsecret::vault::crypto::Unseal::Identities(&ids),
        )
        .is_ok()
    }

    fn remove_bob(alice: &User, repo: &Path) {
        let out = alice.amp(repo, &["recipients", "remove", "bob", "--yes"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    #[test]
    fn a_scope_file_from_a_branch_made_before_a_removal_is_taken_in_by_resolve() {
        let root = tempfile::tempdir().unwrap();
        let (alice, repo, bob) = with_bob(root.path());
        alice.git_ok(&repo, &["checkout", "-q", "-b", "older"]);
        set_shared(&alice, &repo, "FROM_OLDER", "older-v");
        commit(&alice, &repo, "older: a shared secret");
        alice.git_ok(&repo, &["checkout", "-q", "main"]);
        remove_bob(&alice, &repo);
        commit(&alice, &repo, "remove bob");
        // A merge committed at once leaves the file refused, and nothing to take in.
        alice.git_ok(&repo, &["merge", "-q", "--no-edit", "older"]);
        let refused = alice.amp(&repo, &["resolve", "--theirs"], "");
        assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
        alice.git_ok(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
        alice.git_ok(&repo, &["merge", "-q", "--no-commit", "older"]);
        // git added the branch's file as it was: encrypted to Bob, with the old token.
        assert!(readable_by(&bob, &shared_file(&repo)));
        let refused = alice.amp(&repo, &["get", "FROM_OLDER", "--shared"], "");
        assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
        assert!(
            text(&refused.stderr).contains("git merge --no-commit"),
            "{}",
            text(&refused.stderr)
        );
        // The main scope is unaffected.
        assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");

        let taken = alice.amp(&repo, &["resolve", "--theirs"], "");
        assert!(taken.status.success(), "{}", text(&taken.stderr));
        assert!(
            text(&taken.stderr).contains("Took in 1 scope file"),
            "{}",
            text(&taken.stderr)
        );
        shows_no_value(&taken, &["older-v"]);
        assert!(
            !readable_by(&bob, &shared_file(&repo)),
            "re-encrypted without Bob"
        );
        assert_eq!(
            alice.ok(&repo, &["get", "FROM_OLDER", "--shared"]),
            "older-v"
        );
        let listed = alice.ok(&repo, &["list", "--shared"]);
        assert!(listed.contains("to rotate"), "{listed}");
    }

    #[test]
    fn a_scope_file_both_branches_created_is_not_encrypted_to_a_removed_member() {
        let root = tempfile::tempdir().unwrap();
        let (alice, repo, bob) = with_bob(root.path());
        alice.git_ok(&repo, &["checkout", "-q", "-b", "y"]);
        set_shared(&alice, &repo, "Y_KEY", "y-v");
        commit(&alice, &repo, "y");
        alice.git_ok(&repo, &["checkout", "-q", "main"]);
        remove_bob(&alice, &repo);
        set_shared(&alice, &repo, "STRIPE", "after-removal");
        commit(&alice, &repo, "remove bob, then a shared secret");
        alice.git_ok(&repo, &["merge", "-q", "--no-edit", "y"]);
        assert!(
            !readable_by(&bob, &shared_file(&repo)),
            "Bob cannot read the merged file"
        );
        assert_eq!(
            alice.ok(&repo, &["get", "STRIPE", "--shared"]),
            "after-removal"
        );
        assert_eq!(alice.ok(&repo, &["get", "Y_KEY", "--shared"]), "y-v");
    }

    #[test]
    fn a_removal_and_an_addition_on_two_branches_merge_into_a_readable_vault() {
        let root = tempfile::tempdir().unwrap();
        let (alice, repo, _bob) = with_bob(root.path());
        let carol = age::x25519::Identity::generate().to_public().to_string();
        alice.git_ok(&repo, &["checkout", "-q", "-b", "x"]);
        remove_bob(&alice, &repo);
        commit(&alice, &repo, "remove bob");
        alice.git_ok(&repo, &["checkout", "-q", "main"]);
        alice.ok(&repo, &["recipients", "add", &carol, "--name", "carol"]);
        commit(&alice, &repo, "add carol");
        alice.git_ok(&repo, &["merge", "-q", "--no-edit", "x"]);
        assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");
        alice.ok(&repo, &["list"]);
        alice.set(&repo, "AFTER_MERGE", "x");
        let listed = alice.ok(&repo, &["recipients", "list"]);
        assert!(
            listed.contains("carol") && !listed.contains("bob"),
            "{listed}"
        );
    }

    #[test]
    fn a_secret_removed_on_one_branch_stays_removed_when_the_other_changed_its_scope() {
        let root = tempfile::tempdir().unwrap();
        let (alice, repo) = alice_repo(root.path());
        set_shared(&alice, &repo, "OLD_TOKEN", "old");
        commit(&alice, &repo, "a shared secret");
        alice.git_ok(&repo, &["checkout", "-q", "-b", "y"]);
        set_shared(&alice, &repo, "NEW", "new");
        commit(&alice, &repo, "y");
        alice.git_ok(&repo, &["checkout", "-q", "main"]);
        let removed = alice.amp(&repo, &["remove", "OLD_TOKEN", "--shared", "--yes"], "");
        assert!(removed.status.success(), "{}", text(&removed.stderr));
        commit(&alice, &repo, "remove the last shared secret");
        alice.git_ok(&repo, &["merge", "-q", "--no-edit", "y"]);
        let listed = alice.ok(&repo, &["list", "--shared"]);
        assert!(!listed.contains("OLD_TOKEN"), "{listed}");
        assert!(listed.contains("NEW"), "{listed}");
    }

    #[test]
    fn a_read_after_a_pulled_removal_remembers_the_new_token() {
        let root = tempfile::tempdir().unwrap();
        let (alice, repo, _bob) = with_bob(root.path());
        let record_dir = alice.home.join(".config/ampsecret/trust");
        let record = || {
            let entry = std::fs::read_dir(&record_dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            std::fs::read(entry.path()).unwrap()
        };
        let before = record();
        // Another clone removes Bob; Alice pulls and only reads.
        let other = root.path().join("other");
        alice.git_ok(
            root.path(),
            &["clone", "-q", repo.to_str().unwrap(), "other"],
        );
        remove_bob(&alice, &other);
        commit(&alice, &other, "remove bob");
        alice.git_ok(
            &repo,
            &["pull", "-q", "--ff-only", other.to_str().unwrap(), "main"],
        );
        // (the other clone ran as Alice too and already remembered the new token: forget it)
        std::fs::write(
            record_dir
                .read_dir()
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
            &before,
        )
        .unwrap();
        assert_eq!(alice.get(&repo, "DB_PASSWORD"), "alice-db");
        assert_ne!(
            record(),
            before,
            "the first read after the removal records its token"
        );
    }

    #[test]
    fn a_removed_member_cannot_get_a_forged_scope_file_bound_to_the_new_vault_read_or_written() {
        use ampsecret::vault::crypto::{Seal, Unseal, seal, unseal};
        use ampsecret::vault::{Member, Vault, VaultView};
        use sha2::Digest;
        let root = tempfile::tempdir().unwrap();
        let (alice, repo, bob) = with_bob(root.path());
        let alice_key = crate::support::identity_in(&alice.home.join(".config"));
        let vault_age = repo.join(".ampsecret/vault.age");
        // What Bob knows: the team before his removal, token included.
        let before = unseal(
            &std::fs::read(&vault_age).unwrap(),
            Unseal::Identities(std::slice::from_ref(&alice_key)),
        )
        .unwrap();
        let old_team = VaultView::parse(&before).unwrap().team;
        let record_dir = alice.home.join(".config/ampsecret/trust");
        let record = std::fs::read_dir(&record_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let remembered = std::fs::read(&record).unwrap();

        remove_bob(&alice, &repo);
        commit(&alice, &repo, "remove bob");
        // A teammate's machine that pulls the removal and Bob's forgery together still
        // remembers the old token.
        std::fs::write(&record, &remembered).unwrap();

        let mut forged = Vault::default();
        forged.team.tokens = old_team.tokens.clone();
        forged.team.members = old_team.members.clone();
        assert!(forged.team.members.iter().any(|m: &Member| m.name == "bob"));
        let main = ampsecret::scope::ScopeKey::Branch("main".into());
        forged.set(
            &main,
            "DB_PASSWORD",
            ampsecret::secret::SecretValue::new("forged-db".into()),
            &ampsecret::vault::Stamp::new(1, "bob"),
        );
        // Bound to the vault.age now committed: its digest is public.
        let digest: [u8; 32] = sha2::Sha256::digest(std::fs::read(&vault_age).unwrap()).into();
        let plaintext = forged.encode_bound(&digest);
        let to = [alice_key.to_public(), bob.to_public()];
        let refs: Vec<&dyn age::Recipient> = to.iter().map(|r| r as &dyn age::Recipient).collect();
        let scope_file = ampsecret::vault::VaultDir::open(&repo.join(".ampsecret"))
            .unwrap()
            .scope_path(&main);
        std::fs::write(
            &scope_file,
            seal(&plaintext, Seal::Recipients(&refs)).unwrap(),
        )
        .unwrap();

        let got = alice.amp(&repo, &["get", "DB_PASSWORD"], "");
        assert_eq!(got.status.code(), Some(4), "{}", text(&got.stderr));
        shows_no_value(&got, &["forged-db"]);
        let set = alice.amp(&repo, &["set", "STRIPE_KEY", "--stdin"], "after-removal");
        assert_eq!(set.status.code(), Some(4), "{}", text(&set.stderr));
        // Bob can still read only what he forged: nothing new was written to him.
        let sealed = std::fs::read(&scope_file).unwrap();
        let opened = unseal(&sealed, Unseal::Identities(std::slice::from_ref(&bob))).unwrap();
        assert!(!String::from_utf8_lossy(&opened).contains("after-removal"));
    }
}
