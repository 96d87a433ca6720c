//! Effective values: what a deployed backend resolves for each secret name. Pure; no I/O.
//!
//! Amplify reads a deployment's own value first and falls back to the shared value (the
//! resolution its function runtime does). The shared fallback is always
//! `/amplify/shared/<the backend's namespace>`: the app id for a branch, the raw package.json
//! name for a sandbox, the identifier for a standalone deployment. The vault mirrors that:
//! each has its own shared scope (`shared`, `shared:<package name>`, `shared:<identifier>`;
//! see [`crate::scope::ScopeKey::fallback`]), and [`fallback_parameter_scope`] gives the SSM
//! path Amplify reads.

use crate::amplify::ParameterScope;
use crate::scope::ScopeKey;
use crate::vault::format::{EntryView, VaultView};
use std::cmp::Ordering;

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The scope's own value.
    Own,
    /// The fallback shared scope's value (the scope has none of its own).
    Shared,
}

/// A scope and the shared scope its deployment falls back to (`None` for a shared scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub scope: ScopeKey,
    pub fallback: Option<ScopeKey>,
}

impl Lookup {
    /// The vault scope an effective value is read from.
    pub fn source_scope(&self, source: Source) -> &ScopeKey {
        match (source, &self.fallback) {
            (Source::Shared, Some(fallback)) => fallback,
            _ => &self.scope,
        }
    }

    /// " nor in <fallback>" for messages about a name with no effective value.
    pub fn nor_fallback(&self) -> String {
        self.fallback
            .as_ref()
            .map_or_else(String::new, |f| format!(" nor in {f}"))
    }
}

/// One name and the value a deployment of the scope resolves for it.
#[derive(Debug)]
pub struct Resolved<'v, 'a> {
    pub name: &'a str,
    pub entry: &'v EntryView<'a>,
    pub source: Source,
    /// The scope's own value hides a shared value of the same name.
    pub shadows_shared: bool,
}

impl Resolved<'_, '_> {
    /// The SSM parameter Amplify reads the value from, given the scope's own SSM scope.
    pub fn parameter_name(&self, own: &ParameterScope) -> String {
        match self.source {
            Source::Own => own.parameter_name(self.name),
            Source::Shared => fallback_parameter_scope(own).parameter_name(self.name),
        }
    }
}

/// Every name with an effective value in the lookup's scope, in name order.
pub fn resolve_all<'v, 'a>(view: &'v VaultView<'a>, lookup: &Lookup) -> Vec<Resolved<'v, 'a>> {
    let own: &[EntryView<'a>] = view.scope(&lookup.scope).map_or(&[], |s| &s.secrets);
    let shared: &[EntryView<'a>] = match &lookup.fallback {
        None => &[],
        Some(fallback) => view.scope(fallback).map_or(&[], |s| &s.secrets),
    };
    // Both lists are sorted by name (the payload guarantees it): merge them.
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(own.len().max(shared.len()));
    while i < own.len() || j < shared.len() {
        let order = match (own.get(i), shared.get(j)) {
            (Some(o), Some(s)) => o.name.cmp(s.name),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (entry, source, shadows_shared) = match order {
            Ordering::Less => (&own[i], Source::Own, false),
            Ordering::Equal => (&own[i], Source::Own, true),
            Ordering::Greater => (&shared[j], Source::Shared, false),
        };
        if order != Ordering::Greater {
            i += 1;
        }
        if order != Ordering::Less {
            j += 1;
        }
        out.push(Resolved {
            name: entry.name,
            entry,
            source,
            shadows_shared,
        });
    }
    out
}

/// The effective value of one name in the lookup's scope.
pub fn resolve<'v, 'a>(
    view: &'v VaultView<'a>,
    lookup: &Lookup,
    name: &str,
) -> Option<Resolved<'v, 'a>> {
    let shared = lookup
        .fallback
        .as_ref()
        .and_then(|fallback| view.get(fallback, name));
    match view.get(&lookup.scope, name) {
        Some(entry) => Some(Resolved {
            name: entry.name,
            entry,
            source: Source::Own,
            shadows_shared: shared.is_some(),
        }),
        None => shared.map(|entry| Resolved {
            name: entry.name,
            entry,
            source: Source::Shared,
            shadows_shared: false,
        }),
    }
}

/// The shared SSM scope a deployment falls back to: `/amplify/shared/<namespace>`, where the
/// namespace is the backend's (the app id of a branch, the package name of a sandbox, the
/// identifier of a standalone deployment).
pub fn fallback_parameter_scope(own: &ParameterScope) -> ParameterScope {
    match own {
        ParameterScope::Backend { namespace, .. } => ParameterScope::Shared {
            namespace: namespace.clone(),
        },
        shared @ ParameterScope::Shared { .. } => shared.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amplify::BackendKind;
    use crate::secret::SecretValue;
    use crate::vault::Vault;

    fn vault() -> Vault {
        let mut v = Vault::default();
        let main = ScopeKey::Branch("main".into());
        let set = |v: &mut Vault, scope: &ScopeKey, name: &str, value: &str| {
            v.set(
                scope,
                name,
                SecretValue::new(value.into()),
                &crate::vault::Stamp::new(1, "alice"),
            );
        };
        set(&mut v, &main, "A", "main-a");
        set(&mut v, &main, "C", "main-c");
        set(&mut v, &ScopeKey::Shared, "B", "shared-b");
        set(&mut v, &ScopeKey::Shared, "C", "shared-c");
        set(&mut v, &ScopeKey::Shared, "D", "shared-d");
        set(&mut v, &ScopeKey::Sandbox("alice".into()), "D", "alice-d");
        set(&mut v, &pkg(), "P", "pkg-p");
        set(&mut v, &pkg(), "D", "pkg-d");
        v
    }

    /// The package name's shared namespace, a sandbox's fallback.
    fn pkg() -> ScopeKey {
        ScopeKey::SharedNamespace("my-app".into())
    }

    fn lookup(scope: ScopeKey) -> Lookup {
        let fallback = match &scope {
            ScopeKey::Branch(_) => Some(ScopeKey::Shared),
            ScopeKey::Sandbox(_) => Some(pkg()),
            _ => None,
        };
        Lookup { scope, fallback }
    }

    fn summary(all: &[Resolved<'_, '_>]) -> Vec<(String, String, Source, bool)> {
        all.iter()
            .map(|r| {
                (
                    r.name.to_owned(),
                    r.entry.value().expose().to_owned(),
                    r.source,
                    r.shadows_shared,
                )
            })
            .collect()
    }

    #[test]
    fn branch_value_first_then_shared() {
        let bytes = vault().encode();
        let view = VaultView::parse(&bytes).unwrap();
        let main = lookup(ScopeKey::Branch("main".into()));
        let all = resolve_all(&view, &main);
        let row = |n: &str, v: &str, s, sh| (n.to_owned(), v.to_owned(), s, sh);
        assert_eq!(
            summary(&all),
            vec![
                row("A", "main-a", Source::Own, false),
                row("B", "shared-b", Source::Shared, false),
                row("C", "main-c", Source::Own, true),
                row("D", "shared-d", Source::Shared, false),
            ]
        );
        for r in &all {
            let one = resolve(&view, &main, r.name).unwrap();
            assert_eq!(
                (one.source, one.shadows_shared),
                (r.source, r.shadows_shared)
            );
        }
        assert!(resolve(&view, &main, "E").is_none());
        assert_eq!(main.source_scope(all[1].source), &ScopeKey::Shared);
        assert_eq!(main.source_scope(all[0].source), &main.scope);
        assert_eq!(main.nor_fallback(), " nor in shared");
    }

    #[test]
    fn shared_and_unknown_scopes() {
        let bytes = vault().encode();
        let view = VaultView::parse(&bytes).unwrap();
        let shared = resolve_all(&view, &lookup(ScopeKey::Shared));
        assert_eq!(shared.len(), 3);
        assert!(
            shared
                .iter()
                .all(|r| r.source == Source::Own && !r.shadows_shared)
        );
        let other = resolve_all(&view, &lookup(ScopeKey::Branch("dev".into())));
        assert_eq!(other.len(), 3);
        assert!(other.iter().all(|r| r.source == Source::Shared));
        // A sandbox falls back to its package name's namespace, not to the app's.
        let alice = resolve_all(&view, &lookup(ScopeKey::Sandbox("alice".into())));
        let row = |n: &str, v: &str, s, sh| (n.to_owned(), v.to_owned(), s, sh);
        assert_eq!(
            summary(&alice),
            vec![
                row("D", "alice-d", Source::Own, true),
                row("P", "pkg-p", Source::Shared, false),
            ]
        );
        let empty = Vault::default().encode();
        let view = VaultView::parse(&empty).unwrap();
        assert!(resolve_all(&view, &lookup(ScopeKey::Shared)).is_empty());
    }

    #[test]
    fn sandbox_falls_back_to_the_package_name() {
        let sandbox = ParameterScope::Backend {
            kind: BackendKind::Sandbox,
            namespace: "my-app".into(),
            name: "alice".into(),
        };
        assert_eq!(
            fallback_parameter_scope(&sandbox).parameter_name("K"),
            "/amplify/shared/my-app/K"
        );
        let branch = ParameterScope::Backend {
            kind: BackendKind::Branch,
            namespace: "d1a2b3c4d5e6f7".into(),
            name: "main".into(),
        };
        assert_eq!(
            fallback_parameter_scope(&branch).prefix(),
            "/amplify/shared/d1a2b3c4d5e6f7"
        );
        let shared = ParameterScope::Shared {
            namespace: "x".into(),
        };
        assert_eq!(fallback_parameter_scope(&shared), shared);
        let standalone = ParameterScope::Backend {
            kind: BackendKind::Standalone,
            namespace: "prod".into(),
            name: "backend".into(),
        };
        assert_eq!(
            fallback_parameter_scope(&standalone).prefix(),
            "/amplify/shared/prod"
        );
    }
}
