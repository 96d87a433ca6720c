//! `export` in every format read back by the format's real consumer (the dotenv formats in
//! export_readers.rs), and `import`'s plan, confirmation and all-or-nothing checks.

use crate::support::Project;

/// Values that broke comparable tools' quoting.
const VALUES: &[(&str, &str)] = &[
    ("A_QUOTES", "it's \"double\" and 'single'"),
    ("B_DOLLAR", "$HOME ${PATH} $(id) `id`"),
    ("C_BACKSLASH", "C:\\path\\ trailing\\"),
    ("D_BANG", "!! !$ history"),
    ("E_NEWLINES", "line one\nline two\n\nend\n"),
    ("F_UNICODE", "ünïcødé ✓ 🦀 \u{2028}"),
    ("G_HASH", "#not a comment = x"),
    (
        "H_PEM",
        "-----BEGIN PRIVATE KEY-----\nMIIB\r\n-----END PRIVATE KEY-----",
    ),
];

fn project_with_values() -> Project {
    let p = Project::initialized();
    for (name, value) in VALUES {
        // `set --stdin` drops one trailing newline, so store exactly through --file.
        let file = p.temp().join(format!("{name}.value"));
        std::fs::write(&file, value).unwrap();
        p.cmd(&["set", name, "--file", file.to_str().unwrap(), "--yes"])
            .stderr(format!("Stored {name} in branch:main.\n"))
            .success();
        assert_eq!(p.get(name, &[]), *value);
    }
    p
}

#[test]
fn shell_export_round_trips_through_bash() {
    let p = project_with_values();
    let out = p
        .cmd(&["export", "--format", "shell"])
        .stdout(concat!(
            "export A_QUOTES='it'\\''s \"double\" and '\\''single'\\'''\n",
            "export B_DOLLAR='$HOME ${PATH} $(id) `id`'\n",
            "export C_BACKSLASH='C:\\path\\ trailing\\'\n",
            "export D_BANG='!! !$ history'\n",
            "export E_NEWLINES='line one\n",
            "line two\n",
            "\n",
            "end\n",
            "'\n",
            "export F_UNICODE='ünïcødé ✓ 🦀 \u{2028}'\n",
            "export G_HASH='#not a comment = x'\n",
            "export H_PEM='-----BEGIN PRIVATE KEY-----\n",
            "MIIB\r\n",
            "-----END PRIVATE KEY-----'\n"
        ))
        .success();
    let file = p.temp().join("secrets.sh");
    std::fs::write(&file, &out.stdout).unwrap();
    for (name, value) in VALUES {
        let read = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -a; source \"$1\"; printf %s \"${name}\""))
            .arg("bash")
            .arg(&file)
            .env_clear()
            .output()
            .expect("bash is needed for this test");
        assert!(
            read.status.success(),
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        assert_eq!(String::from_utf8(read.stdout).unwrap(), *value, "{name}");
    }
}

/// `export --format json` of [`VALUES`]: sorted by name, pretty-printed.
const JSON_EXPORT: &str = concat!(
    "{\n",
    "  \"A_QUOTES\": \"it's \\\"double\\\" and 'single'\",\n",
    "  \"B_DOLLAR\": \"$HOME ${PATH} $(id) `id`\",\n",
    "  \"C_BACKSLASH\": \"C:\\\\path\\\\ trailing\\\\\",\n",
    "  \"D_BANG\": \"!! !$ history\",\n",
    "  \"E_NEWLINES\": \"line one\\nline two\\n\\nend\\n\",\n",
    "  \"F_UNICODE\": \"ünïcødé ✓ 🦀 \u{2028}\",\n",
    "  \"G_HASH\": \"#not a comment = x\",\n",
    "  \"H_PEM\": \"-----BEGIN PRIVATE KEY-----\\nMIIB\\r\\n-----END PRIVATE KEY-----\"\n",
    "}\n"
);

#[test]
fn json_export_round_trips_through_serde_json() {
    let p = project_with_values();
    let out = p
        .cmd(&["export", "--format", "json"])
        .stdout(JSON_EXPORT)
        .success();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for (name, value) in VALUES {
        assert_eq!(doc[name], *value, "{name}");
    }
    p.cmd(&["export", "--json"]).stdout(JSON_EXPORT).success();
    let both = p
        .cmd(&["export", "--json", "--format", "shell"])
        .stderr_any()
        .fails(2);
    let error: serde_json::Value = serde_json::from_str(&both.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "usage");
}

#[test]
fn github_export_writes_env_file_form_and_masks_on_stderr() {
    let p = project_with_values();
    let out = p
        .cmd(&["export", "--format", "github"])
        // The random heredoc delimiters on stdout are checked line by line below.
        .stdout_any()
        .stderr(concat!(
            "::add-mask::it's \"double\" and 'single'\n",
            "::add-mask::$HOME ${PATH} $(id) `id`\n",
            "::add-mask::C:\\path\\ trailing\\\n",
            "::add-mask::!! !$ history\n",
            "::add-mask::line one\n",
            "::add-mask::line two\n",
            "::add-mask::end\n",
            "::add-mask::ünïcødé ✓ 🦀 \u{2028}\n",
            "::add-mask::#not a comment = x\n",
            "::add-mask::-----BEGIN PRIVATE KEY-----\n",
            "::add-mask::MIIB\n",
            "::add-mask::-----END PRIVATE KEY-----\n"
        ))
        .success();
    // The $GITHUB_ENV file form only on stdout: NAME<<DELIM, value, DELIM.
    let mut lines = out.stdout.split('\n').peekable();
    let mut seen = Vec::new();
    while let Some(header) = lines.next() {
        if header.is_empty() && lines.peek().is_none() {
            break;
        }
        let (name, delimiter) = header
            .split_once("<<")
            .unwrap_or_else(|| panic!("{header:?}"));
        let mut value_lines = Vec::new();
        for line in lines.by_ref() {
            if line == delimiter {
                break;
            }
            value_lines.push(line);
        }
        seen.push((name.to_owned(), value_lines.join("\n")));
    }
    let want: Vec<(String, String)> = VALUES
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(seen, want);
    assert!(!out.stdout.contains("::add-mask::"));
    // One mask per non-blank line of each value, on stderr.
    for line in [
        "line one",
        "line two",
        "-----BEGIN PRIVATE KEY-----",
        "MIIB",
    ] {
        assert!(
            out.stderr
                .lines()
                .any(|l| l == format!("::add-mask::{line}")),
            "{line}: {}",
            out.stderr
        );
    }
    assert!(
        out.stderr.lines().all(|l| l.starts_with("::add-mask::")),
        "{}",
        out.stderr
    );
}

#[test]
fn effective_export_and_names_each_format_cannot_hold() {
    let p = Project::initialized();
    p.set("SHARED", "s", &["--shared"]);
    p.set("OWN", "o", &[]);
    p.cmd(&["export"]).stdout("OWN='o'\n").success();
    p.cmd(&["export", "--effective"])
        .stdout("OWN='o'\nSHARED='s'\n")
        .success();

    p.set("my-key", "x", &[]);
    p.cmd(&["export", "--format", "shell"])
        .stderr_has("my-key")
        .fails(5);
    p.cmd(&["export", "--format", "dotenv"])
        .stderr_has("--format json")
        .fails(5);
    let doc = p
        .cmd(&["export", "--format", "json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(doc["my-key"], "x");
}

#[test]
fn export_then_import_is_the_identity() {
    let p = project_with_values();
    for (format, file) in [("json", "out.json")] {
        let path = p.temp().join(file);
        // The exact text of each format is checked by the tests above.
        let out = p
            .cmd(&["export", "--format", format])
            .stdout_any()
            .success();
        std::fs::write(&path, &out.stdout).unwrap();
        let scope = format!("--sandbox={format}");
        // --yes shows the plan too, as push does.
        let plan: String = VALUES
            .iter()
            .map(|(name, _)| format!("  + {name:11}  create (new)\n"))
            .collect();
        p.cmd(&["import", path.to_str().unwrap(), &scope, "--yes"])
            .stderr(format!(
                "Plan for sandbox:{format} from {path}:\n{plan}\
                 Applied 8 changes to sandbox:{format} from {path}: 8 created.\n",
                path = path.display()
            ))
            .success();
        for (name, value) in VALUES {
            assert_eq!(p.get(name, &[&scope]), *value, "{format} {name}");
        }
    }
}

#[test]
fn import_shows_a_plan_and_needs_yes_without_a_terminal() {
    let p = Project::initialized();
    p.set("SAME", "same", &[]);
    p.set("CHANGED", "old", &[]);
    let file = p.temp().join(".env");
    std::fs::write(
        &file,
        "# from the old host\nexport NEW='new-value'\nCHANGED=\"new\\nvalue\"\nSAME=same\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();

    let before = p.snapshot();
    p.cmd(&["import", path]).stderr_has("--yes").fails(2);
    let plan = p
        .cmd(&["import", path, "--dry-run", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(plan["added"], serde_json::json!(["NEW"]));
    assert_eq!(plan["changed"], serde_json::json!(["CHANGED"]));
    assert_eq!(plan["unchanged"], serde_json::json!(["SAME"]));
    assert_eq!(plan["applied"], false);
    let plan = format!(
        "Plan for branch:main from {path}:\n\
         \x20 + NEW      create (new)\n\
         \x20 ~ CHANGED  update (changed)\n\
         \x20 = SAME     unchanged\n"
    );
    p.cmd(&["import", path, "--dry-run"])
        .stderr(format!(
            "{plan}Dry run: 2 changes planned for branch:main from {path} (1 to create, 1 to \
             update); nothing was changed.\n"
        ))
        .success();
    assert_eq!(p.snapshot(), before, "a dry run changes nothing");

    // With --yes the plan is shown too, then applied.
    p.cmd(&["import", path, "--yes"])
        .stderr(format!(
            "{plan}Applied 2 changes to branch:main from {path}: 1 created, 1 updated (1 \
             unchanged).\n"
        ))
        .success();
    assert_eq!(p.get("NEW", &[]), "new-value");
    assert_eq!(p.get("CHANGED", &[]), "new\nvalue");
    let again = p
        .cmd(&["import", path, "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 3);
    assert_eq!(again["applied"], false);
}

#[test]
fn a_bad_line_imports_nothing() {
    let p = Project::initialized();
    p.set("KEEP", "kept", &[]);
    let before = p.snapshot();
    let cases = [
        ("A=1\nthis is not a line\nB=2\n", "line 2"),
        (
            "A=1\nB=pass\n# c\u{2028}C=word\n",
            "line 3: a Unicode line separator",
        ),
        ("A=1\nB=\n", "line 2: value for B: the value is empty"),
        ("A=1\nhunter2 here\n", "line 2: not a NAME=value line"),
        ("A=1\n\nA=2\n", "line 3: A is given twice (first on line 1)"),
        ("A={{resolve:ssm:x}}\n", "line 1: value for A"),
    ];
    for (text, expected) in cases {
        let file = p.temp().join("bad.env");
        std::fs::write(&file, text).unwrap();
        let out = p
            .cmd(&["import", file.to_str().unwrap(), "--yes"])
            .stderr_has(expected)
            .fails(5);
        assert!(
            out.stderr.contains("nothing was imported"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("hunter2") && !out.stderr.contains("word"),
            "{}",
            out.stderr
        );
        std::fs::remove_file(&file).unwrap();
        assert_eq!(
            p.snapshot(),
            before,
            "{expected}: the vault must be byte-identical"
        );
    }

    let json = p.temp().join("bad.json");
    std::fs::write(&json, "{\"A\": \"1\", \"B\": 12345}").unwrap();
    p.cmd(&["import", json.to_str().unwrap(), "--yes"])
        .stderr_has("the value of B is a number")
        .fails(5);
    std::fs::write(&json, "{\"A\": \"1\",\n \"B\" \"x\"}").unwrap();
    p.cmd(&["import", json.to_str().unwrap(), "--yes"])
        .stderr_has("line 2")
        .fails(5);
    std::fs::write(&json, "{\"bad name\": \"1\"}").unwrap();
    p.cmd(&["import", json.to_str().unwrap(), "--yes"])
        .stderr_has("secret name 'bad name'")
        .fails(5);
    std::fs::remove_file(&json).unwrap();
    assert_eq!(p.snapshot(), before);
    assert_eq!(p.get("KEEP", &[]), "kept");

    p.cmd(&["import", "/nonexistent/file.env", "--yes"])
        .stderr("error: no file /nonexistent/file.env\n")
        .fails(3);
}

#[test]
fn import_reads_standard_input_and_json() {
    let p = Project::initialized();
    p.cmd(&["import", "-", "--format", "json", "--shared", "--yes"])
        .stdin("{\"FROM_STDIN\": \"a\\\"b\"}")
        .stderr(
            "Plan for shared from -:\n\
             \x20 + FROM_STDIN  create (new)\n\
             Applied 1 change to shared from -: 1 created.\n",
        )
        .success();
    assert_eq!(p.get("FROM_STDIN", &["--shared"]), "a\"b");
}

#[test]
fn import_confirms_on_a_terminal() {
    use rexpect::process::wait::WaitStatus;

    let p = Project::initialized();
    p.set("OLD", "old", &[]);
    let file = p.temp().join("in.env");
    std::fs::write(&file, "OLD=changed-value\nNEW=new-value\n").unwrap();
    let session = |p: &Project| {
        let mut command = std::process::Command::new(crate::support::BIN);
        command
            .env_clear()
            .envs(p.env_map())
            .env("TERM", "xterm")
            .current_dir(p.root())
            .args(["import", file.to_str().unwrap()]);
        rexpect::session::spawn_command(command, Some(10_000)).expect("spawn on a pty")
    };
    let finish = |mut s: rexpect::session::PtySession| {
        let rest = s.exp_eof().unwrap();
        match s.process.wait() {
            Ok(WaitStatus::Exited(_, code)) => (code, rest),
            other => panic!("{other:?}: {rest}"),
        }
    };

    let before = p.snapshot();
    let mut s = session(&p);
    let shown = s.exp_string("Apply 2 changes to branch:main?").unwrap();
    // Marks are coloured on a terminal.
    assert!(
        shown.contains("\x1b[33m~\x1b[0m OLD  update (changed)")
            && shown.contains("\x1b[32m+\x1b[0m NEW  create (new)"),
        "{shown}"
    );
    assert!(!shown.contains("-value"), "values are never shown: {shown}");
    s.send("n").unwrap();
    s.flush().unwrap();
    assert_eq!(finish(s).0, 130);
    assert_eq!(p.snapshot(), before);

    let mut s = session(&p);
    s.exp_string("Apply 2 changes to branch:main?").unwrap();
    s.send("y").unwrap();
    s.flush().unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(p.get("OLD", &[]), "changed-value");
    assert_eq!(p.get("NEW", &[]), "new-value");
}
