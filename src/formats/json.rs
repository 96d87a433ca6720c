//! One JSON object of names to string values, in name order.

use super::{Entry, Problem};
use crate::secret::SecretValue;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use zeroize::Zeroizing;

/// Renders `items` (already in name order) as a pretty-printed object.
pub fn render<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Zeroizing<String> {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    // JSON escapes a character in at most six bytes (\u001f); reserving the worst case up
    // front means the buffer never reallocates and leaves no unwiped copy behind.
    let capacity: usize = 4 + items
        .iter()
        .map(|(n, v)| 6 * (n.len() + v.len()) + 10)
        .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    out.push(b'{');
    for (i, (name, value)) in items.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n  " } else { b",\n  " });
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, name);
        out.extend_from_slice(b": ");
        let _ = serde_json::to_writer(&mut *out, value);
    }
    out.extend_from_slice(if items.is_empty() { b"}\n" } else { b"\n}\n" });
    debug_assert!(out.len() <= capacity);
    // The bytes are JSON text, UTF-8 by construction; moving them keeps one buffer.
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *out)).unwrap_or_default())
}

/// Parses `{"NAME": "value", …}`. Every value must be a string; a name may appear once.
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let pairs = de
        .deserialize_map(Pairs)
        .and_then(|pairs| de.end().map(|()| pairs))
        .map_err(|e| vec![json_problem(&e)])?;
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for (name, value) in pairs {
        match value {
            serde_json::Value::String(value) => entries.push(Entry {
                name,
                value: SecretValue::new(value),
                line: None,
            }),
            other => problems.push(Problem::at(
                None,
                format!("the value of {name} is {}, not a string", kind(&other)),
            )),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde_json's messages can quote the input (a number, say); keep only where and what kind.
fn json_problem(error: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Eof => "the JSON ends early",
        Category::Syntax => "this is not valid JSON",
        Category::Data => "expected one object of names to string values",
        Category::Io => "cannot read the JSON",
    };
    if error.line() == 0 {
        Problem::at(None, what)
    } else {
        Problem::at(
            Some(error.line()),
            format!("{what} (column {})", error.column()),
        )
    }
}

/// Keeps every key in order, repeats included (a map would silently keep the last).
struct Pairs;

impl<'de> Visitor<'de> for Pairs {
    type Value = Vec<(String, serde_json::Value)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of names to string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, serde_json::Value>()? {
            pairs.push(pair);
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests_support::{NASTY, value_strategy};
    use proptest::prelude::*;

    #[test]
    fn shape() {
        assert_eq!(render([]).as_str(), "{}\n");
        assert_eq!(
            render([("A", "x\"y"), ("B", "\n")]).as_str(),
            "{\n  \"A\": \"x\\\"y\",\n  \"B\": \"\\n\"\n}\n"
        );
    }

    #[test]
    fn nasty_values_round_trip() {
        for value in NASTY {
            let text = render([("K", *value)]);
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back["K"], *value);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn round_trips_through_serde_json(values in prop::collection::vec(value_strategy(), 1..6)) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("K_{i}")).collect();
            let text = render(names.iter().map(String::as_str).zip(values.iter().map(String::as_str)));
            let back: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
            for (name, value) in names.iter().zip(&values) {
                prop_assert_eq!(back[name].as_str(), Some(value.as_str()));
            }
            let ours = parse(&text).unwrap();
            for (value, entry) in values.iter().zip(&ours) {
                prop_assert_eq!(value.as_str(), entry.value.expose());
            }
        }
    }

    #[test]
    fn problems() {
        let err = parse("{\"A\": \"x\",\n \"B\": 12345}").unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "the value of B is a number, not a string"
        );
        let err = parse("{\"A\": \"x\"\n \"B\": \"y\"}").unwrap_err();
        assert_eq!(err[0].line, Some(2));
        let err = parse("[\"A\"]").unwrap_err();
        assert!(err[0].message.starts_with("expected one object"), "{err:?}");
        let err = parse("{\"A\": \"x\"} trailing").unwrap_err();
        assert!(err[0].message.starts_with("this is not valid JSON"));
        // Repeats are kept, for check_entries to refuse.
        let both = parse("{\"A\": \"1\", \"A\": \"2\"}").unwrap();
        assert_eq!(both.len(), 2);
    }
}
