//! The dotenv exports read back by the real readers: Node's `dotenv`, Next.js's `@next/env`
//! (`loadEnvConfig`), Vite's `loadEnv`, and python-dotenv (`dotenv_values`), installed by
//! `tests/install-readers.sh` into the ignored folder `.cache/readers` (tests/run.sh calls it).
//!
//! Without them these tests skip with a message, except under CI (`CI` set), where a missing
//! reader is a failure.

use crate::support::Project;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL_HINT: &str = "install them with: bash tests/install-readers.sh";

/// Values every dotenv reader must carry: quotes of all three kinds, `$`, backslashes,
/// literal `\n`, real newlines, `#`, `=`, outer spaces, Unicode, JSON and PEM bodies.
const CARRIED: &[(&str, &str)] = &[
    ("A_QUOTES", "it's \"double\" and `back`"),
    ("B_QUOTED_LINES", "it's\n\"two\" lines"),
    ("C_DOLLAR", "$(id) costs 5$, ${ and $"),
    ("D_BACKSLASH", "C:\\path\\ trailing\\"),
    ("E_LITERAL_NEWLINE", "a\\nb\\r\\\\n"),
    ("F_NEWLINES", "line one\nline two\n\nend\n"),
    ("G_HASH_EQUALS", "#not a comment = x # y"),
    ("H_SPACES", "  padded \t"),
    ("I_UNICODE", "ünïcødé ✓ 🦀 \u{2028}\u{a0}"),
    (
        "J_JSON",
        r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n","note":"a \"quoted\" \\ word"}"#,
    ),
    (
        "K_PEM",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC+/=\n-----END PRIVATE KEY-----\n",
    ),
    (
        "L_PEM_ESCAPED",
        "-----BEGIN PRIVATE KEY-----\\nMIIEvQ+/=\\n-----END PRIVATE KEY-----\\n",
    ),
    ("M_HASH_TRAILING_BACKSLASH", "# x\\"),
    ("N_LEADING_QUOTE", "'quoted' then more # and a \\"),
    ("O_ALL_QUOTES_BARE", "x'`\" = \\"),
    // Bare, starting with a quote: carried because no later line holds a `'`.
    ("Z_LEADING_QUOTE_BARE", "'`\"x"),
];

/// Values Node's dotenv reads one way and Next.js or Vite another (or Vite cannot hold).
const NOT_CARRIED_BY_NODE: &[(&str, &str)] = &[
    ("P_NAME", "pa$word"),
    ("Q_BRACES", "${PATH}"),
    ("R_ESCAPED", "a\\$b"),
    ("S_CARRIAGE_RETURN", "x\r\ny"),
    ("T_LAST_DOLLAR_DIGIT", "cost $5"),
    ("U_ALL_QUOTES_AND_HASH", "'`\" #"),
];

/// Values python-dotenv also carries, and one it substitutes into.
const CARRIED_BY_PYTHON: &[(&str, &str)] = &[
    ("P_NAME", "pa$word $HOME"),
    ("R_ESCAPED", "a\\$b \\' \\\""),
    ("S_CARRIAGE_RETURN", "x\r\ny\r"),
    ("U_ALL_QUOTES_AND_HASH", "'`\" #"),
];
const NOT_CARRIED_BY_PYTHON: &[(&str, &str)] = &[("Q_BRACES", "${PATH}"), ("V_DEFAULT", "${X:-y}")];

/// `export --format dotenv` of [`CARRIED`]: each value in the first quote it does not hold,
/// else bare.
const DOTENV_EXPORT: &str = concat!(
    "A_QUOTES=it's \"double\" and `back`\n",
    "B_QUOTED_LINES=`it's\n",
    "\"two\" lines`\n",
    "C_DOLLAR='$(id) costs 5$, ${ and $'\n",
    "D_BACKSLASH='C:\\path\\ trailing\\'\n",
    "E_LITERAL_NEWLINE='a\\nb\\r\\\\n'\n",
    "F_NEWLINES='line one\n",
    "line two\n",
    "\n",
    "end\n",
    "'\n",
    "G_HASH_EQUALS='#not a comment = x # y'\n",
    "H_SPACES='  padded \t'\n",
    "I_UNICODE='ünïcødé ✓ 🦀 \u{2028}\u{a0}'\n",
    "J_JSON='{\"type\":\"service_account\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n\",\"note\":\"a \\\"quoted\\\" \\\\ word\"}'\n",
    "K_PEM='-----BEGIN PRIVATE KEY-----\n",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC+/=\n",
    "-----END PRIVATE KEY-----\n",
    "'\n",
    "L_PEM_ESCAPED='-----BEGIN PRIVATE KEY-----\\nMIIEvQ+/=\\n-----END PRIVATE KEY-----\\n'\n",
    "M_HASH_TRAILING_BACKSLASH='# x\\'\n",
    "N_LEADING_QUOTE=`'quoted' then more # and a \\`\n",
    "O_ALL_QUOTES_BARE=x'`\" = \\\n",
    "Z_LEADING_QUOTE_BARE='`\"x\n",
);

/// The installed readers, or `None` (with a message) when they are absent outside CI.
struct Readers {
    cache: PathBuf,
}

fn readers() -> Option<Readers> {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/readers");
    let missing: Vec<&str> = [
        ("node_modules/dotenv/package.json", "dotenv"),
        ("node_modules/@next/env/package.json", "@next/env"),
        ("node_modules/vite/package.json", "vite"),
        ("python/dotenv/main.py", "python-dotenv"),
    ]
    .into_iter()
    .filter(|(path, _)| !cache.join(path).is_file())
    .map(|(_, name)| name)
    .collect();
    let have_node = Command::new("node").arg("--version").output().is_ok();
    if missing.is_empty() && have_node {
        return Some(Readers { cache });
    }
    let what = if have_node {
        format!(
            "{} not installed in {}",
            missing.join(", "),
            cache.display()
        )
    } else {
        "node is not on PATH".to_owned()
    };
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "CI is set and the dotenv readers are missing: {what}; {INSTALL_HINT}"
    );
    eprintln!("SKIPPED: the real dotenv readers are missing ({what}); {INSTALL_HINT}");
    None
}

impl Readers {
    /// A reader's process: an empty environment (the readers substitute from it) plus PATH.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir());
        command
    }

    fn run(mut command: Command) -> Value {
        let out = command.output().expect("run a reader");
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("a reader prints JSON")
    }

    /// `{dir: {"dotenv": {...}, "next": {...}, "vite": {...}}}` for each `dir/.env`.
    fn javascript(&self, dirs: &[PathBuf]) -> Value {
        let mut command = self.command("node");
        command
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/read-env.mjs"))
            .arg(&self.cache)
            .args(dirs);
        Self::run(command)
    }

    /// `{dir: {...}}` from python-dotenv's `dotenv_values` for each `dir/.env`.
    fn python(&self, dirs: &[PathBuf]) -> Value {
        let mut command = self.command("python3");
        command
            .env("PYTHONPATH", self.cache.join("python"))
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/read_env.py"))
            .args(dirs);
        Self::run(command)
    }
}

fn project_with(values: &[(&str, &str)]) -> Project {
    let p = Project::initialized();
    p.bulk_set(values.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    p
}

/// Writes `text` as `.env` in a fresh folder under the project's temporary tree.
fn env_dir(p: &Project, name: &str, text: &str) -> PathBuf {
    let dir = p.temp().join("readers").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), text).unwrap();
    dir
}

fn as_map(values: &[(&str, &str)]) -> Value {
    Value::Object(
        values
            .iter()
            .map(|(n, v)| (n.to_string(), Value::String(v.to_string())))
            .collect(),
    )
}

#[test]
fn dotenv_export_is_read_exactly_by_dotenv_next_and_vite() {
    let Some(readers) = readers() else { return };
    let p = project_with(CARRIED);
    let out = p
        .cmd(&["export", "--format", "dotenv"])
        .stdout_any()
        .success();
    let dir = env_dir(&p, "node", &out.stdout);
    let read = readers.javascript(std::slice::from_ref(&dir));
    let want = as_map(CARRIED);
    for reader in ["dotenv", "next", "vite"] {
        assert_eq!(
            read[dir.to_str().unwrap()][reader],
            want,
            "{reader} reads the export:\n{}",
            out.stdout
        );
    }
}

#[test]
fn python_dotenv_export_is_read_exactly_by_python_dotenv() {
    let Some(readers) = readers() else { return };
    let values: Vec<(&str, &str)> = CARRIED.iter().chain(CARRIED_BY_PYTHON).copied().collect();
    let p = project_with(&values);
    let out = p
        .cmd(&["export", "--format", "python-dotenv"])
        .stdout_any()
        .success();
    let dir = env_dir(&p, "python", &out.stdout);
    let read = readers.python(std::slice::from_ref(&dir));
    assert_eq!(
        read[dir.to_str().unwrap()],
        as_map(&values),
        "python-dotenv reads the export:\n{}",
        out.stdout
    );
}

/// The refused values are refused by name with nothing written, and none of them has an
/// encoding (any quote, or none) that all three JavaScript readers read back exactly.
#[test]
fn values_the_readers_cannot_carry_are_refused_by_name() {
    let Some(readers) = readers() else { return };
    let mut values = vec![("KEPT", "kept-value")];
    values.extend(NOT_CARRIED_BY_NODE);
    let p = project_with(&values);
    let out = p
        .cmd(&["export", "--format", "dotenv"])
        .stderr_has("--format json")
        .fails(5);
    assert!(
        out.stdout.is_empty(),
        "nothing is written: {:?}",
        out.stdout
    );
    for (name, value) in NOT_CARRIED_BY_NODE {
        assert!(out.stderr.contains(name), "{name}: {}", out.stderr);
        assert!(
            !out.stderr.contains(value),
            "{name}'s value shown: {}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("KEPT"), "{}", out.stderr);
    assert!(
        out.stderr.contains("--format json") && out.stderr.contains("--format shell"),
        "{}",
        out.stderr
    );
    // json and shell carry them.
    p.cmd(&["export", "--format", "json"])
        .stdout_any()
        .success();
    p.cmd(&["export", "--format", "shell"])
        .stdout_any()
        .success();
    assert_no_encoding_carries(&readers, &p, NOT_CARRIED_BY_NODE);

    let p = project_with(NOT_CARRIED_BY_PYTHON);
    let out = p
        .cmd(&["export", "--format", "python-dotenv"])
        .stderr_has("--format json")
        .fails(5);
    assert!(out.stdout.is_empty());
    for (name, _) in NOT_CARRIED_BY_PYTHON {
        assert!(out.stderr.contains(name), "{name}: {}", out.stderr);
    }
    let dirs: Vec<PathBuf> = NOT_CARRIED_BY_PYTHON
        .iter()
        .flat_map(|(name, value)| {
            encodings(value)
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    env_dir(&p, &format!("py-{name}-{i}"), &format!("{name}={text}\n"))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let read = readers.python(&dirs);
    for dir in &dirs {
        let got = &read[dir.to_str().unwrap()];
        assert!(
            NOT_CARRIED_BY_PYTHON
                .iter()
                .all(|(name, value)| got.get(*name).and_then(Value::as_str) != Some(*value)),
            "{dir:?} carries a refused value: {got}"
        );
    }
}

/// Every way to write `value` after `NAME=`: in each quote (with the double quote's `\n`
/// escapes too) and bare.
fn encodings(value: &str) -> Vec<String> {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    vec![
        format!("'{value}'"),
        format!("`{value}`"),
        format!("\"{value}\""),
        format!("\"{escaped}\""),
        value.to_owned(),
    ]
}

fn assert_no_encoding_carries(readers: &Readers, p: &Project, values: &[(&str, &str)]) {
    let mut dirs = Vec::new();
    for (name, value) in values {
        for (i, text) in encodings(value).into_iter().enumerate() {
            let dir = env_dir(p, &format!("js-{name}-{i}"), &format!("{name}={text}\n"));
            dirs.push((dir, *name, *value));
        }
    }
    let paths: Vec<PathBuf> = dirs.iter().map(|(d, _, _)| d.clone()).collect();
    let read = readers.javascript(&paths);
    for (dir, name, value) in &dirs {
        let got = &read[dir.to_str().unwrap()];
        let exact = ["dotenv", "next", "vite"]
            .iter()
            .all(|r| got[r].get(*name).and_then(Value::as_str) == Some(*value));
        assert!(!exact, "{name} is refused, yet {dir:?} carries it: {got}");
    }
}

/// A small deterministic generator (xorshift), so a failure names a reproducible value.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "'", "\"", "`", "\\", "$", "{", "}", "#", "=", " ", "\t", "\n", "\r", "a", "Z", "_", "1",
    "\\n", "\\r", "\\$", "${A}", "$B", "export ", "ü", "🦀", "\u{2028}", "\u{a0}", "x",
];

fn random_values(seed: u64, count: usize) -> Vec<(String, String)> {
    let mut rng = Xorshift(seed);
    (0..count)
        .map(|i| {
            let len = 1 + (rng.next() % 8) as usize;
            let value: String = (0..len).map(|_| rng.pick(PIECES)).collect();
            (format!("R_{i:04}"), value)
        })
        .collect()
}

/// Random values: what the export writes, all three readers read exactly; what it refuses,
/// no encoding carries through all three.
#[test]
fn random_values_through_the_javascript_readers() {
    let Some(readers) = readers() else { return };
    let values = random_values(0x5eed_0001, 400);
    let accepted = |v: &str| ampsecret::formats::dotenv::render([("A", v)]).is_ok();
    let (kept, refused): (Vec<_>, Vec<_>) = values.iter().partition(|(_, v)| accepted(v));
    assert!(
        kept.len() > 150 && refused.len() > 20,
        "{} kept",
        kept.len()
    );
    let p = project_with(
        &kept
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let out = p.cmd(&["export"]).stdout_any().success();
    let dir = env_dir(&p, "random", &out.stdout);
    let read = readers.javascript(std::slice::from_ref(&dir));
    let want = Value::Object(
        kept.iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect(),
    );
    for reader in ["dotenv", "next", "vite"] {
        let got = &read[dir.to_str().unwrap()][reader];
        for (name, value) in &kept {
            assert_eq!(
                got[name.as_str()],
                want[name.as_str()],
                "{reader} {name} {value:?}"
            );
        }
    }
    let refused: Vec<(&str, &str)> = refused
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_no_encoding_carries(&readers, &p, &refused);
}

#[test]
fn random_values_through_python_dotenv() {
    let Some(readers) = readers() else { return };
    let values = random_values(0x5eed_0002, 400);
    let kept: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .filter(|(_, v)| ampsecret::formats::python_dotenv::render([("A", *v)]).is_ok())
        .collect();
    assert!(kept.len() > 300, "{} kept", kept.len());
    let p = project_with(&kept);
    let out = p
        .cmd(&["export", "--format", "python-dotenv"])
        .stdout_any()
        .success();
    let dir = env_dir(&p, "random", &out.stdout);
    let read = readers.python(std::slice::from_ref(&dir));
    assert_eq!(read[dir.to_str().unwrap()], as_map(&kept));
}

/// Hand-written files: where import reads a file, it reads what Node's dotenv reads.
#[test]
fn import_reads_hand_written_files_as_node_dotenv_does() {
    let Some(readers) = readers() else { return };
    let mut files: Vec<String> = [
        "A=1\nB = spaced out  # note\n  export C='x' # c\nD=\"a\\nb\\rc\"\nE='a\\nb'\n",
        "A=\"two\nlines\"\nB=`tick`\r\nC='it\\'s'\nD=x#y\nE='unclosed\nF=done\n",
        "A='a' b\nB=\"x\" # c\nC=''\nD=\"\"\"\nE=\n'F'\nG=$HOME ${X}\n",
        "export A=1\nexport=2\nA.B-C=3\nD=\n'x'\nE=\"q\\\"\nF=\"r\"\n",
        "#c\n\n\nA=\\'x\\'\nB=\"a'b\"c\"\nC='\u{2028}'\nD=\u{a0}v\u{a0}\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Random files from dotenv's syntax pieces.
    let mut rng = Xorshift(0x5eed_0003);
    let syntax = [
        "A=",
        "B=",
        "C = ",
        "export D=",
        "'",
        "\"",
        "`",
        "\\",
        "#",
        " ",
        "\n",
        "\r\n",
        "x",
        "$Y",
        "=",
        "\\n",
        "\u{2028}",
        "\t",
    ];
    for _ in 0..200 {
        let len = 2 + (rng.next() % 14) as usize;
        files.push((0..len).map(|_| rng.pick(&syntax)).collect());
    }
    // And files of NAME=value lines whose values are made of the same pieces.
    let starts = ["A=", "B = ", "export C=", "D.E=", "F= ", "# note\nG="];
    let value_pieces = &syntax[4..];
    for _ in 0..400 {
        let mut text = String::new();
        for _ in 0..1 + rng.next() % 4 {
            text.push_str(rng.pick(&starts));
            for _ in 0..rng.next() % 7 {
                text.push_str(rng.pick(value_pieces));
            }
            text.push('\n');
        }
        files.push(text);
    }
    let p = Project::new();
    let dirs: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, text)| env_dir(&p, &format!("hand-{i}"), text))
        .collect();
    let read = readers.javascript(&dirs);
    let mut agreed = 0;
    for (dir, text) in dirs.iter().zip(&files) {
        let Ok(entries) = ampsecret::formats::dotenv::parse(text) else {
            continue;
        };
        // dotenv keeps the last of a name given twice (import refuses that, by line).
        let ours: BTreeMap<String, Value> = entries
            .into_iter()
            .map(|e| (e.name, Value::String(e.value.expose().to_owned())))
            .collect();
        let theirs: BTreeMap<String, Value> = read[dir.to_str().unwrap()]["dotenv"]
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect();
        assert_eq!(ours, theirs, "file {text:?}");
        agreed += 1;
    }
    // Random syntax often makes lines that are not NAME=value, which import refuses.
    eprintln!(
        "import read {agreed} of {} files, each as dotenv does",
        files.len()
    );
    assert!(agreed > files.len() / 3, "only {agreed} files read at all");

    // And end to end: the first file imported, each value as dotenv reads it.
    let p = Project::initialized();
    let file = env_dir(&p, "import", &files[0]).join(".env");
    p.cmd(&["import", file.to_str().unwrap(), "--yes"])
        .stderr_has(&format!("changes to branch:main from {}: ", file.display()))
        .success();
    let theirs = &read[dirs[0].to_str().unwrap()]["dotenv"];
    for (name, value) in theirs.as_object().unwrap() {
        assert_eq!(p.get(name, &[]), value.as_str().unwrap(), "{name}");
    }
}

/// What each dotenv export writes, its own import reads back.
#[test]
fn export_then_import_in_each_dotenv_format() {
    let python: Vec<(&str, &str)> = CARRIED.iter().chain(CARRIED_BY_PYTHON).copied().collect();
    for (format, values) in [("dotenv", CARRIED), ("python-dotenv", &python[..])] {
        let p = project_with(values);
        let export = p.cmd(&["export", "--format", format]);
        let export = if format == "dotenv" {
            export.stdout(DOTENV_EXPORT)
        } else {
            export.stdout_any()
        };
        let exported = export.success().stdout;
        let file = env_dir(&p, format, &exported).join(".env");
        let scope = format!("--sandbox={format}");
        p.cmd(&[
            "import",
            file.to_str().unwrap(),
            "--format",
            format,
            &scope,
            "--yes",
        ])
        .stderr_has(&format!(
            "Applied {} changes to sandbox:{format} from {}: {} created.\n",
            values.len(),
            file.display(),
            values.len()
        ))
        .success();
        for (name, value) in values {
            assert_eq!(p.get(name, &[&scope]), *value, "{format} {name}");
        }
    }
}
