//! The vault at the size the benchmark measures (100,000 secrets, about 8 MB): the crash and
//! concurrency guarantees hold there too, `get` finds one secret by decrypting part of the
//! file, and a cut file is refused. Also: a vault written by the release before the indexed
//! layout (format 2) opens and is upgraded on its next write.

use crate::safety;
use crate::support::{APP_ID, Project};
use ampsecret::vault::crypto;
use ampsecret::vault::layout::{Head, Section};
use std::fs;
use std::path::Path;

const SECRETS: usize = 100_000;

/// A project whose vault holds 100,000 secrets in branch `main`, written in one go through
/// the library.
fn big_vault() -> Project {
    let p = Project::initialized();
    p.bulk_set((0..SECRETS).map(|i| (format!("BULK_{i:06}"), format!("value-{i:0>60}"))));
    p
}

fn decrypt(p: &Project, file: &Path) -> Vec<u8> {
    let ampsecret::vault::Key::Identities(ids) = p.key() else {
        unreachable!("tests use X25519 keys")
    };
    let sealed = fs::read(file).unwrap();
    crypto::unseal(&sealed, crypto::Unseal::Identities(&ids))
        .unwrap()
        .to_vec()
}

/// The file that holds `scope`'s secrets.
fn scope_file(p: &Project, scope: &ampsecret::scope::ScopeKey) -> std::path::PathBuf {
    ampsecret::vault::VaultDir::open(&p.vault_dir())
        .unwrap()
        .scope_path(scope)
}

fn main_scope() -> ampsecret::scope::ScopeKey {
    ampsecret::scope::ScopeKey::Branch("main".into())
}

/// Every scope file of the vault, decrypted (in name order).
fn scope_plaintexts(p: &Project) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = fs::read_dir(p.vault_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(ampsecret::vault::split::is_file_name)
        })
        .collect();
    files.sort();
    files.iter().map(|file| decrypt(p, file)).collect()
}

/// Every secret's value, read from the files by the library (no trust record touched).
fn stored_values(
    p: &Project,
) -> std::collections::BTreeMap<(ampsecret::scope::ScopeKey, String), String> {
    let mut stored = std::collections::BTreeMap::new();
    for plaintext in scope_plaintexts(p) {
        let view = ampsecret::vault::VaultView::parse(&plaintext).unwrap();
        for scope in &view.scopes {
            for entry in &scope.secrets {
                stored.insert(
                    (scope.key.clone(), entry.name.to_owned()),
                    entry.value().expose().to_owned(),
                );
            }
        }
    }
    stored
}

#[test]
fn writers_killed_on_a_hundred_thousand_secrets_leave_the_old_or_the_new_vault() {
    let p = big_vault();
    assert_eq!(p.get("BULK_054321", &[]), format!("value-{:0>60}", 54321));
    // Counted through the library: listing 100,000 rows as JSON takes seconds in a debug
    // build, and the whole payload is parsed and checked either way.
    safety::writers_killed_at_any_moment_leave_the_old_or_the_new_vault(&p, SECRETS, |p| {
        scope_plaintexts(p)
            .iter()
            .map(|plaintext| {
                let view = ampsecret::vault::VaultView::parse(plaintext).unwrap();
                view.scopes.iter().map(|s| s.secrets.len()).sum::<usize>()
            })
            .sum()
    });
}

#[test]
fn sixteen_concurrent_writers_on_a_hundred_thousand_secrets_keep_all() {
    // Sixteen writers queue for the lock; give the last of them time in a debug build.
    let p = big_vault().env("AMPSECRET_LOCK_TIMEOUT", "300");
    safety::sixteen_concurrent_writers_keep_all(&p, SECRETS);
}

#[test]
fn a_vault_cut_at_a_chunk_boundary_is_refused_and_left_as_it_is() {
    refused_when_cut_after(&big_vault(), 10);
}

#[test]
fn a_scope_file_of_two_chunks_cut_after_the_first_is_refused_and_left_as_it_is() {
    // 1,000 secrets: a file of about 100 KiB, which `get` reads on to its end in one pass.
    let p = Project::initialized();
    p.bulk_set((0..1_000).map(|i| (format!("BULK_{i:06}"), format!("value-{i:0>60}"))));
    let file = scope_file(&p, &main_scope());
    let chunks = fs::metadata(&file).unwrap().len().div_ceil(64 * 1024 + 16);
    assert_eq!(chunks, 2, "the file spans two chunks");
    assert_eq!(p.get("BULK_000999", &[]), format!("value-{:0>60}", 999));
    refused_when_cut_after(&p, 1);
}

/// Cuts the main scope's file after `chunks` whole chunks (every chunk left is authentic, only
/// the end is missing): `get` and `set` refuse it and leave it as it is.
fn refused_when_cut_after(p: &Project, chunks: usize) {
    let file = scope_file(p, &main_scope());
    let whole = fs::read(&file).unwrap();
    // age's payload: a header, then chunks of 64 KiB + a 16-byte tag.
    let chunk = 64 * 1024 + 16;
    let header_len = {
        // The payload starts after the header's "--- <mac>\n" line and a 16-byte nonce.
        let end = whole.windows(4).position(|w| w == b"\n---").unwrap() + 1;
        end + whole[end..].iter().position(|&b| b == b'\n').unwrap() + 1 + 16
    };
    let cut = &whole[..header_len + chunks * chunk];
    fs::write(&file, cut).unwrap();
    for args in [&["get", "BULK_000001"][..], &["set", "X", "--stdin"]] {
        p.cmd(args)
            .stdin("v")
            .stdout("")
            .stderr_has("truncated")
            .fails(4);
        assert_eq!(fs::read(&file).unwrap(), cut, "{args:?} changed the file");
    }
}

/// A vault written by an earlier release (tests/fixtures/NAME), with the key that opens it:
/// ONE and TWO in branch:main, SHARED_ONE in shared, SANDBOXED in sandbox:alice.
fn fixture(name: &str) -> Project {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let p = Project::new();
    let dir = p.vault_dir();
    fs::create_dir_all(&dir).unwrap();
    let private = |path: &Path| {
        fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap()
    };
    fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    for name in ["config.toml", "vault.age"] {
        fs::copy(fixture.join(name), dir.join(name)).unwrap();
        private(&dir.join(name));
    }
    let ids = p.temp().join("config/ampsecret/identities");
    fs::create_dir_all(&ids).unwrap();
    // The identity file is named after the vault id config.toml holds.
    let config = fs::read_to_string(fixture.join("config.toml")).unwrap();
    let vault_id = config
        .lines()
        .find_map(|l| l.strip_prefix("vault_id = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap();
    let key_file = ids.join(format!("{vault_id}.txt"));
    fs::copy(fixture.join("identity.txt"), &key_file).unwrap();
    private(&key_file);
    p
}

#[test]
fn a_format_2_vault_opens_and_is_upgraded_on_its_next_write() {
    let p = fixture("vault-format-2");
    let file = p.vault_dir().join("vault.age");
    let before = fs::read(&file).unwrap();
    assert_eq!(&decrypt(&p, &file)[8..10], &2u16.to_le_bytes());
    assert_eq!(p.get("ONE", &[]), "main-one");
    assert_eq!(p.get("TWO", &[]), "two\nlines ✓");
    assert_eq!(p.get("SHARED_ONE", &["--shared"]), "shared-value");
    assert_eq!(p.get("SANDBOXED", &["--sandbox=alice"]), "alice-value");
    let listed = p
        .cmd(&["list", "--all", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(fs::read(&file).unwrap(), before, "reading does not rewrite");
    let textconv =
        |p: &Project, file: &str| p.cmd(&["git-textconv", file]).stdout_any().success().stdout;
    let described = textconv(&p, ".ampsecret/vault.age");
    assert!(described.contains("branch:main  TWO"), "{described}");
    assert!(
        described.contains("sandbox:alice  SANDBOXED"),
        "{described}"
    );

    p.set("THREE", "main-three", &[]);
    let upgraded = decrypt(&p, &file);
    assert_eq!(
        &upgraded[8..10],
        &ampsecret::vault::format::FORMAT_VERSION.to_le_bytes()
    );
    let head = Head::parse(&upgraded).unwrap();
    assert_eq!(head.payload_len(), upgraded.len() as u64);
    assert_eq!(head.team.members.len(), 1, "the member list is kept");
    for (name, args, value) in [
        ("ONE", &[][..], "main-one"),
        ("TWO", &[], "two\nlines ✓"),
        ("THREE", &[], "main-three"),
        ("SHARED_ONE", &["--shared"], "shared-value"),
        ("SANDBOXED", &["--sandbox=alice"], "alice-value"),
    ] {
        assert_eq!(p.get(name, args), value, "{name}");
    }
    // The upgrade moved every scope into a file of its own: vault.age keeps the team.
    assert!(head.blocks.is_empty() && head.history.is_empty());
    assert_eq!(
        scope_plaintexts(&p).len(),
        3,
        "branch:main, shared, sandbox:alice"
    );
    // git's textconv reads both formats: the upgrade adds THREE and changes nothing else.
    let mut upgraded_described = textconv(&p, ".ampsecret/vault.age");
    for entry in fs::read_dir(p.vault_dir()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ampsecret::vault::split::is_file_name(&name) {
            upgraded_described += &textconv(&p, &format!(".ampsecret/{name}"));
        }
    }
    let added: Vec<&str> = upgraded_described
        .lines()
        .filter(|l| !described.lines().any(|d| d == *l))
        .collect();
    assert_eq!(added.len(), 1, "{upgraded_described}");
    assert!(
        added[0].contains("branch:main  THREE"),
        "{upgraded_described}"
    );
    assert!(!upgraded_described.contains("main-one"), "never a value");
    // The app id and the rest of config.toml are as they were.
    let config = fs::read_to_string(p.vault_dir().join("config.toml")).unwrap();
    assert!(
        config.contains(&format!("app_id = \"{APP_ID}\"")),
        "{config}"
    );
}

#[test]
fn a_format_4_vault_opens_and_is_upgraded_to_a_file_per_scope_on_its_next_write() {
    let p = fixture("vault-format-4");
    let file = p.vault_dir().join("vault.age");
    let before = fs::read(&file).unwrap();
    assert_eq!(&decrypt(&p, &file)[8..10], &4u16.to_le_bytes());
    // A killed upgrade's leftover beside a vault of one file is not read as the vault: the
    // same fixture, upgraded with another value, lends its file of branch:main.
    let abandoned = fixture("vault-format-4");
    abandoned.set("ONE", "from-an-abandoned-upgrade", &[]);
    let leftover = scope_file(&abandoned, &main_scope());
    fs::copy(&leftover, scope_file(&p, &main_scope())).unwrap();
    for (name, args, value) in [
        ("ONE", &[][..], "main-one-v2"),
        ("TWO", &[], "two\nlines ✓"),
        ("SHARED_ONE", &["--shared"], "shared-value"),
        ("SANDBOXED", &["--sandbox=alice"], "alice-value"),
    ] {
        assert_eq!(p.get(name, args), value, "{name}");
    }
    assert_eq!(fs::read(&file).unwrap(), before, "reading does not rewrite");

    p.set("THREE", "main-three", &[]);
    let head = Head::parse(&decrypt(&p, &file)).unwrap();
    assert_eq!(head.version, ampsecret::vault::format::FORMAT_VERSION);
    assert!(
        head.blocks.is_empty() && head.history.is_empty(),
        "vault.age keeps the team"
    );
    assert_eq!(head.team.members.len(), 1, "the member list is kept");
    assert_eq!(
        scope_plaintexts(&p).len(),
        3,
        "branch:main, shared, sandbox:alice"
    );
    let stored = stored_values(&p);
    assert_eq!(stored.len(), 5, "{:?}", stored.keys());
    assert_eq!(stored[&(main_scope(), "ONE".to_owned())], "main-one-v2");
    let main = decrypt(&p, &scope_file(&p, &main_scope()));
    let view = ampsecret::vault::VaultView::parse(&main).unwrap();
    let past = view.history_of(&main_scope(), "ONE");
    assert_eq!(past.len(), 1, "the history is kept");
    assert_eq!(past[0].value.expose(), "main-one");
    assert_eq!(p.get("ONE", &[]), "main-one-v2");
}

#[test]
fn a_merge_of_a_one_file_vault_with_an_upgraded_one_says_to_upgrade_it_first() {
    let p = fixture("vault-format-4");
    let file = p.vault_dir().join("vault.age");
    let one_file = p.temp().join("one-file.age");
    fs::copy(&file, &one_file).unwrap();
    p.set("THREE", "main-three", &[]);
    let ours = p.temp().join("ours.age");
    fs::copy(&file, &ours).unwrap();
    let ours_before = fs::read(&ours).unwrap();
    let path = |f: &Path| f.display().to_string();
    p.cmd(&[
        "git-merge-driver",
        &path(&one_file),
        &path(&ours),
        &path(&one_file),
    ])
    .stderr_has("upgrade the earlier one first")
    .fails(2);
    assert_eq!(
        fs::read(&ours).unwrap(),
        ours_before,
        "the merge wrote nothing"
    );
}

#[test]
fn set_writes_only_its_scopes_file() {
    let p = Project::initialized();
    p.set("A", "a", &[]);
    p.set("S", "s", &["--shared"]);
    p.set("X", "x", &["--sandbox=alice"]);
    let before = p.snapshot();
    p.set("A", "a2", &[]);
    let after = p.snapshot();
    let changed: Vec<_> = after
        .iter()
        .filter(|(path, bytes)| before.get(*path) != Some(*bytes))
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(
        changed,
        [scope_file(&p, &main_scope())],
        "only branch:main's file"
    );
    // A scope emptied by remove keeps its file, empty (a merge with a branch that changed
    // the scope then goes through the merge driver, which keeps the removal).
    p.cmd(&["remove", "X", "--sandbox=alice", "--yes"])
        .stdout_any()
        .stderr_any()
        .success();
    let alice = ampsecret::scope::ScopeKey::Sandbox("alice".into());
    let emptied = decrypt(&p, &scope_file(&p, &alice));
    let view = ampsecret::vault::VaultView::parse(&emptied).unwrap();
    assert!(view.scopes.is_empty(), "the file holds nothing");
    p.cmd(&["list", "--all"]).stdout_any().success();
    assert_eq!(p.get("S", &["--shared"]), "s");
    p.set("X", "again", &["--sandbox=alice"]);
    assert_eq!(p.get("X", &["--sandbox=alice"]), "again");
}

#[test]
fn a_scope_file_under_another_scopes_name_is_refused() {
    let p = Project::initialized();
    p.set("A", "main-a", &[]);
    p.set("A", "shared-a", &["--shared"]);
    let shared = scope_file(&p, &ampsecret::scope::ScopeKey::Shared);
    // Someone who can commit moves branch:main's file over shared's.
    fs::copy(scope_file(&p, &main_scope()), &shared).unwrap();
    let before = p.snapshot();
    p.cmd(&["get", "A", "--shared"])
        .stdout("")
        .stderr_has("holds what belongs in another of the vault's files")
        .fails(4);
    p.cmd(&["set", "B", "--stdin", "--shared"])
        .stdin("v")
        .stderr_has("holds what belongs in another of the vault's files")
        .fails(4);
    assert_eq!(p.snapshot(), before, "nothing was written");
    assert_eq!(p.get("A", &[]), "main-a");
}

#[test]
fn a_scope_file_from_before_a_member_removal_is_refused() {
    let p = Project::initialized();
    let bob = age::x25519::Identity::generate().to_public().to_string();
    p.cmd(&["recipients", "add", &bob, "--name", "bob"])
        .stdout_any()
        .stderr_any()
        .success();
    p.set("A", "a", &[]);
    let file = scope_file(&p, &main_scope());
    let readable_by_bob = fs::read(&file).unwrap();
    p.cmd(&["recipients", "remove", "bob", "--yes"])
        .stdout_any()
        .stderr_any()
        .success();
    assert_ne!(
        fs::read(&file).unwrap(),
        readable_by_bob,
        "re-encrypted without bob"
    );
    // Bob, or a branch from before his removal, brings the old file back.
    fs::write(&file, &readable_by_bob).unwrap();
    for args in [&["get", "A"][..], &["list"]] {
        p.cmd(args)
            .stdout("")
            .stderr_has("was not written by a member of this vault since its last member removal")
            .fails(4);
    }
    // Outside a merge of the branch that holds it, resolve takes nothing in.
    let before = p.snapshot();
    p.cmd(&["resolve", "--theirs"])
        .stdout("")
        .stderr_has("since its last member removal")
        .fails(4);
    assert_eq!(p.snapshot(), before);
}

#[test]
fn set_rewrites_one_block_and_keeps_the_history_of_the_secret_it_changes() {
    let p = Project::initialized();
    // 5,000 secrets: the vault has many blocks, and set rewrites only the one that changes.
    p.bulk_set((0..5000).map(|i| (format!("BULK_{i:06}"), format!("value-{i:0>60}"))));
    let file = scope_file(&p, &main_scope());
    let team = fs::read(p.vault_dir().join("vault.age")).unwrap();
    let blocks = |plaintext: &[u8]| -> Vec<Vec<u8>> {
        let head = Head::parse(plaintext).unwrap();
        (0..head.blocks.len())
            .map(|i| {
                let range = head.block_range(Section::Secrets, i);
                plaintext[range.start as usize..range.end as usize].to_vec()
            })
            .collect()
    };
    for value in ["one", "two", "three"] {
        let before = blocks(&decrypt(&p, &file));
        p.set("BULK_002500", value, &[]);
        let after = blocks(&decrypt(&p, &file));
        let changed = after.iter().filter(|b| !before.contains(b)).count();
        assert_eq!(
            (after.len(), changed),
            (before.len(), 1),
            "one block changes"
        );
    }
    p.set("NEW_AT_THE_END", "new", &[]);
    assert_eq!(
        fs::read(p.vault_dir().join("vault.age")).unwrap(),
        team,
        "vault.age (the team) is not rewritten"
    );
    let plaintext = decrypt(&p, &file);
    let head = Head::parse(&plaintext).unwrap();
    assert!(head.blocks.len() > 5, "{} blocks", head.blocks.len());
    let view = ampsecret::vault::VaultView::parse(&plaintext).unwrap();
    let main = ampsecret::scope::ScopeKey::Branch("main".into());
    let entry = view.get(&main, "BULK_002500").unwrap();
    assert_eq!((entry.value().expose(), entry.version), ("three", 4));
    let past: Vec<(u32, String)> = view
        .history_of(&main, "BULK_002500")
        .iter()
        .map(|v| (v.version, v.value.expose().to_owned()))
        .collect();
    assert_eq!(
        past,
        [
            (3, "two".to_owned()),
            (2, "one".to_owned()),
            (1, format!("value-{:0>60}", 2500))
        ]
    );
    assert_eq!(view.scopes[0].secrets.len(), 5001);
    assert_eq!(p.get("BULK_004999", &[]), format!("value-{:0>60}", 4999));
    assert_eq!(p.get("NEW_AT_THE_END", &[]), "new");
}

#[test]
fn one_secret_writes_keep_the_index_strict_wherever_the_name_falls() {
    use ampsecret::scope::ScopeKey;
    use ampsecret::secret::SecretValue;
    use ampsecret::vault::{Stamp, VaultDir};
    use std::collections::BTreeMap;
    let p = Project::initialized();
    p.bulk_set((0..3000).map(|i| (format!("M_{i:05}"), format!("{i:0>100}"))));
    let mut model: BTreeMap<(ScopeKey, String), String> = (0..3000)
        .map(|i| {
            let key = (ScopeKey::Branch("main".into()), format!("M_{i:05}"));
            (key, format!("{i:0>100}"))
        })
        .collect();
    let main = ScopeKey::Branch("main".into());
    let mut writes: Vec<(ScopeKey, String, String)> = vec![
        // Before the scope's first name, in the middle, after its last.
        (main.clone(), "A_FIRST".into(), "a".into()),
        (main.clone(), "M_01500_X".into(), "middle".into()),
        (main.clone(), "Z_LAST".into(), "z".into()),
        // New scopes: before every other, and after every other.
        (ScopeKey::Shared, "S".into(), "shared".into()),
        (
            ScopeKey::Standalone("zzz".into()),
            "Z".into(),
            "standalone".into(),
        ),
        // A changed value.
        (main.clone(), "M_00007".into(), "changed".into()),
    ];
    // Enough large values in one place to split its block several times.
    writes.extend((0..60).map(|i| (main.clone(), format!("M_00100_{i:02}"), "v".repeat(2000))));
    let dir = VaultDir::open(&p.vault_dir()).unwrap();
    let key = p.key();
    for (scope, name, value) in writes {
        dir.update_secret(&key, &scope, &name, |v| {
            Ok(v.set(
                &scope,
                &name,
                SecretValue::new(value.clone()),
                &Stamp::new(2, "t"),
            ))
        })
        .unwrap();
        model.insert((scope.clone(), name.clone()), value);
        assert!(stored_values(&p) == model, "after {scope} {name}");
    }
    // 120 KB went into one block's range: it was split, and no block outgrew the target.
    let plaintext = decrypt(&p, &scope_file(&p, &main));
    let head = Head::parse(&plaintext).unwrap();
    assert!(
        head.blocks
            .iter()
            .all(|b| b.len as usize <= ampsecret::vault::layout::BLOCK_TARGET)
    );
    assert_eq!(p.get("Z", &["--standalone=zzz"]), "standalone");
    assert_eq!(p.get("M_00100_59", &[]), "v".repeat(2000));
}

/// The executable's start-up is part of every command's cost: on Linux with glibc it is
/// linked at a fixed address (ELF type EXEC, no relocation of its pointer tables at start),
/// unless it was built with `AMPSECRET_PIE=1` (type DYN). See src/build.rs.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_executable_is_linked_at_a_fixed_address_unless_asked_otherwise() {
    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    let mut header = [0; 18];
    std::io::Read::read_exact(
        &mut fs::File::open(crate::support::BIN).unwrap(),
        &mut header,
    )
    .unwrap();
    assert_eq!(&header[..4], b"\x7fELF", "not an ELF file");
    let elf_type = u16::from_le_bytes([header[16], header[17]]);
    let expected = if option_env!("AMPSECRET_PIE") == Some("1") {
        ET_DYN
    } else {
        ET_EXEC
    };
    assert_eq!(elf_type, expected, "ELF type of {}", crate::support::BIN);
}
