//! Does a literal environment value look like a credential? Pure heuristics: the value's
//! shape (known key formats) first, then the variable's name.

/// Words in a variable name that suggest a credential, as whole words of the name.
const NAME_WORDS: &[&str] = &[
    "KEY",
    "KEYS",
    "APIKEY",
    "ACCESSKEY",
    "SECRETKEY",
    "PRIVATEKEY",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "AUTHTOKEN",
    "ACCESSTOKEN",
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PWD",
    "PRIVATE",
    "CREDENTIAL",
    "CREDENTIALS",
];

/// Known prefixes of secret tokens, and what they are.
const PREFIXES: &[(&str, &str)] = &[
    ("sk_live_", "a Stripe live secret key"),
    ("rk_live_", "a Stripe live restricted key"),
    ("whsec_", "a Stripe webhook secret"),
    ("ghp_", "a GitHub token"),
    ("gho_", "a GitHub token"),
    ("ghu_", "a GitHub token"),
    ("ghs_", "a GitHub token"),
    ("ghr_", "a GitHub token"),
    ("github_pat_", "a GitHub token"),
    ("glpat-", "a GitLab token"),
    ("xoxb-", "a Slack token"),
    ("xoxp-", "a Slack token"),
    ("xoxa-", "a Slack token"),
    ("xoxs-", "a Slack token"),
    ("xoxr-", "a Slack token"),
];

/// Why `value` (of variable `name`) looks like a credential, if it does.
pub fn suspicion(name: &str, value: &str) -> Option<String> {
    if let Some(shape) = known_shape(value) {
        return Some(format!("the value looks like {shape}"));
    }
    if name_suggests_credential(name) && plausible_secret(value) {
        return Some(format!("the name {name} suggests a credential"));
    }
    None
}

fn known_shape(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if let Some((_, what)) = PREFIXES.iter().find(|(p, _)| value.starts_with(p)) {
        return Some(what);
    }
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----") {
        return Some("a PEM private key");
    }
    if has_token(value, &["AKIA", "ASIA"], 16, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit()
    }) {
        return Some("an AWS access key id");
    }
    if has_token(value, &["AIza"], 35, |c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    }) {
        return Some("a Google API key");
    }
    if has_token(value, &["npm_"], 36, |c| c.is_ascii_alphanumeric()) {
        return Some("an npm token");
    }
    if has_token(value, &["sk-"], 20, |c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    }) {
        return Some("an API secret key (sk-…)");
    }
    if value.starts_with("eyJ") && value.split('.').count() == 3 && value.len() > 30 {
        return Some("a JSON Web Token");
    }
    if url_with_password(value) {
        return Some("a URL with a password");
    }
    None
}

/// Whether `value` holds one of `prefixes` followed by at least `len` characters of `class`.
fn has_token(value: &str, prefixes: &[&str], len: usize, class: impl Fn(char) -> bool) -> bool {
    prefixes.iter().any(|prefix| {
        value.match_indices(prefix).any(|(at, _)| {
            value[at + prefix.len()..]
                .chars()
                .take_while(|c| class(*c))
                .count()
                >= len
        })
    })
}

/// `scheme://user:password@host`.
fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
}

/// The name split into words (at `_`, `-`, `.` and lower-to-upper case changes) holds one of
/// [`NAME_WORDS`].
fn name_suggests_credential(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_uppercase());
    }
    words.push(word);
    words.iter().any(|w| NAME_WORDS.contains(&w.as_str()))
}

/// Rules out values that are plainly not secrets: short, spaced, numbers and booleans, paths
/// and URLs without a password.
fn plausible_secret(value: &str) -> bool {
    let value = value.trim();
    value.chars().count() >= 8
        && !value.contains(char::is_whitespace)
        && !value.chars().all(|c| c.is_ascii_digit())
        && !matches!(value.to_ascii_lowercase().as_str(), "true" | "false")
        && !value.starts_with('/')
        && !value.contains("://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let flagged = [
            ("X", "sk_live_51HxYzAbCdEf"),
            ("X", "AKIAIOSFODNN7EXAMPLE"),
            ("X", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
            ("X", "xoxb-123-456-abc"),
            (
                "X",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            ),
            ("X", "-----BEGIN PRIVATE KEY-----"),
            ("X", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
            ("X", "postgres://app:hunter2@db.example.com/app"),
            ("X", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
        ];
        for (name, value) in flagged {
            let why = suspicion(name, value).unwrap_or_else(|| panic!("{value}"));
            assert!(why.starts_with("the value looks like"), "{why}");
        }
    }

    #[test]
    fn names() {
        for name in [
            "API_KEY",
            "apiKey",
            "STRIPE_SECRET",
            "authToken",
            "DB_PASSWORD",
            "SMTP_PASSWD",
            "PRIVATE_PEM",
            "GOOGLE_CREDENTIALS",
            "APIKEY",
        ] {
            assert!(suspicion(name, "Zm9vYmFyYmF6cXV4").is_some(), "{name}");
        }
        for name in ["MONKEY", "KEYCLOAK_REALM_NAME_X", "TABLE_NAME", "TOKENIZER"] {
            assert!(suspicion(name, "Zm9vYmFyYmF6cXV4").is_none(), "{name}");
        }
    }

    #[test]
    fn plain_values_are_not_flagged() {
        for value in [
            "true",
            "3600",
            "short",
            "two words here",
            "/keys/public.pem",
            "https://example.com/token",
        ] {
            assert_eq!(suspicion("TOKEN_SETTING", value), None, "{value}");
        }
        assert_eq!(suspicion("REGION", "eu-west-1"), None);
        assert_eq!(suspicion("URL", "https://user@example.com"), None);
    }
}
