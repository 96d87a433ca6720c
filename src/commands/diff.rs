//! `ampsecret diff`: how the vault and SSM differ, per name; never values.

use super::Context;
use super::sync::Session;
use crate::cli::DiffArgs;
use crate::error::Result;
use crate::ssm::plan::Status;
use serde_json::json;

pub fn run(cx: &Context, args: DiffArgs) -> Result<()> {
    let session = Session::load(cx, &args.scope, &args.aws)?;
    let compared = session.compare();
    if cx.global.json {
        let rows: Vec<_> = compared
            .iter()
            .map(|(name, status)| {
                json!({
                    "name": name,
                    "status": status.as_str(),
                    "path": session.parameter(name),
                    "remote_version": session.remote.get(name).map(|r| r.version),
                })
            })
            .collect();
        super::print_json(&json!({
            "scope": session.scope.to_string(),
            "prefix": session.prefix,
            "secrets": rows,
        }));
        return Ok(());
    }
    println!("{} ({})", session.prefix, session.scope);
    if compared.is_empty() {
        println!("  (no secrets on either side)");
    }
    for (name, status) in &compared {
        let mark = match status {
            Status::Unchanged => "=",
            Status::AddedHere | Status::DeletedRemote => "+",
            Status::OnlyRemote => "-",
            Status::ChangedHere => "~",
            Status::ChangedThere => "<",
            Status::Conflict => "!",
        };
        println!("  {mark} {name}  {}", status.describe());
    }
    Ok(())
}
