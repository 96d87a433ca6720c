//! Finds, in one backend source file, the `secret()` calls of `@aws-amplify/backend` and the
//! literal strings of `defineFunction({ environment })`, by parsing it with oxc.
//!
//! Only identifiers bound by an import of `@aws-amplify/backend` count (`import { secret }`,
//! `import { secret as s }`, `import * as amplify` then `amplify.secret`, and CommonJS
//! `const { secret } = require('@aws-amplify/backend')`), so comments, strings and unrelated
//! functions named `secret` are never reported. Shadowing by an inner variable of the same
//! name is not tracked.

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Argument, BindingPattern, CallExpression, Expression, ImportDeclarationSpecifier,
    ImportOrExportKind, ObjectPropertyKind, Program, Statement,
};
use oxc_ast_visit::Visit;
use oxc_parser::Parser;
use oxc_span::SourceType;
use std::collections::HashSet;

const PACKAGE: &str = "@aws-amplify/backend";

/// A `secret('NAME')` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretCall {
    pub name: String,
    /// Byte offset of the call in the source.
    pub offset: u32,
}

/// A literal string in a `defineFunction` environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvLiteral {
    pub key: String,
    pub value: String,
    pub offset: u32,
}

/// What one file holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub secrets: Vec<SecretCall>,
    /// Offsets of `secret(…)` calls whose name is not a literal, which cannot be checked.
    pub dynamic: Vec<u32>,
    pub environment: Vec<EnvLiteral>,
}

/// A file the parser cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    pub offset: u32,
    pub message: String,
}

/// Deepest nesting of brackets, or longest run of prefix operators, that is analysed. The
/// parser and the visitor recurse once per level; real backend code stays far below this,
/// and a deeper file is reported instead of overflowing the stack.
pub const MAX_NESTING: usize = 1_000;
/// Stack of the thread that parses: room for [`MAX_NESTING`] levels of every construct.
const PARSER_STACK: usize = 256 * 1024 * 1024;

/// Parses `source` and collects its findings.
pub fn analyze(source: &str, source_type: SourceType) -> Result<Findings, ParseFailure> {
    if let Some(offset) = too_deep(source) {
        return Err(ParseFailure {
            offset,
            message: format!(
                "too deeply nested to check (more than {MAX_NESTING} levels of brackets or prefix operators)"
            ),
        });
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_and_visit(source, source_type))
            .map_err(|e| ParseFailure {
                offset: 0,
                message: format!("cannot start the parser: {e}"),
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The offset where nesting first goes past [`MAX_NESTING`]: brackets of any kind (strings
/// and comments count too, which only errs on the safe side), or a run of prefix operators
/// such as `!!!!x` or `- - -x`, which nest without brackets.
fn too_deep(source: &str) -> Option<u32> {
    let mut depth = 0usize;
    let mut run = 0usize;
    for (offset, byte) in source.bytes().enumerate() {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        match byte {
            b'!' | b'~' | b'+' | b'-' => run += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => run = 0,
        }
        if depth > MAX_NESTING || run > MAX_NESTING {
            return Some(u32::try_from(offset).unwrap_or(u32::MAX));
        }
    }
    None
}

fn parse_and_visit(source: &str, source_type: SourceType) -> Result<Findings, ParseFailure> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        let offset = error.labels.first().map_or(0, |label| label.offset());
        return Err(ParseFailure {
            offset,
            message: error.message.to_string(),
        });
    }
    if parsed.panicked {
        return Err(ParseFailure {
            offset: 0,
            message: "the parser gave up".into(),
        });
    }
    let mut finder = Finder::default();
    finder.bindings(&parsed.program);
    finder.visit_program(&parsed.program);
    Ok(finder.findings)
}

#[derive(Default)]
struct Finder {
    /// Local names of `secret`.
    secret: HashSet<String>,
    /// Local names of `defineFunction`.
    define_function: HashSet<String>,
    /// Local names of the whole module (`import * as x`, `const x = require(…)`).
    namespace: HashSet<String>,
    findings: Findings,
}

impl Finder {
    /// Collects the names the package's exports are bound to (imports are hoisted, so this
    /// runs before any call is looked at).
    fn bindings(&mut self, program: &Program<'_>) {
        for statement in &program.body {
            match statement {
                Statement::ImportDeclaration(import)
                    if import.source.value.as_str() == PACKAGE
                        && import.import_kind != ImportOrExportKind::Type =>
                {
                    for specifier in import.specifiers.iter().flatten() {
                        match specifier {
                            ImportDeclarationSpecifier::ImportSpecifier(s)
                                if s.import_kind != ImportOrExportKind::Type =>
                            {
                                self.bind(s.imported.name().as_str(), s.local.name.as_str());
                            }
                            ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                                self.namespace.insert(s.local.name.to_string());
                            }
                            _ => {}
                        }
                    }
                }
                Statement::VariableDeclaration(declaration) => {
                    for declarator in &declaration.declarations {
                        if declarator.init.as_ref().is_some_and(is_require_of_package) {
                            self.bind_pattern(&declarator.id);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn bind(&mut self, exported: &str, local: &str) {
        match exported {
            "secret" => self.secret.insert(local.to_owned()),
            "defineFunction" => self.define_function.insert(local.to_owned()),
            _ => false,
        };
    }

    /// `const { secret, defineFunction: df } = require(…)` or `const amplify = require(…)`.
    fn bind_pattern(&mut self, pattern: &BindingPattern<'_>) {
        match pattern {
            BindingPattern::BindingIdentifier(id) => {
                self.namespace.insert(id.name.to_string());
            }
            BindingPattern::ObjectPattern(object) => {
                for property in &object.properties {
                    if let (Some(key), BindingPattern::BindingIdentifier(local)) =
                        (property.key.static_name(), &property.value)
                    {
                        self.bind(&key, local.name.as_str());
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `callee` is the package's `name` export under any of its local names.
    fn is_export(&self, callee: &Expression<'_>, locals: &HashSet<String>, name: &str) -> bool {
        match callee.without_parentheses() {
            Expression::Identifier(id) => locals.contains(id.name.as_str()),
            Expression::StaticMemberExpression(member) => {
                member.property.name.as_str() == name
                    && matches!(member.object.without_parentheses(),
                        Expression::Identifier(id) if self.namespace.contains(id.name.as_str()))
            }
            _ => false,
        }
    }

    fn secret_call(&mut self, call: &CallExpression<'_>) {
        match call.arguments.first().and_then(literal_argument) {
            Some(name) => self.findings.secrets.push(SecretCall {
                name,
                offset: call.span.start,
            }),
            None => self.findings.dynamic.push(call.span.start),
        }
    }

    fn define_function_call(&mut self, call: &CallExpression<'_>) {
        let Some(Expression::ObjectExpression(props)) = call
            .arguments
            .first()
            .and_then(Argument::as_expression)
            .map(Expression::without_parentheses)
        else {
            return;
        };
        for property in &props.properties {
            let ObjectPropertyKind::ObjectProperty(property) = property else {
                continue;
            };
            if property.key.static_name().as_deref() != Some("environment") {
                continue;
            }
            let Expression::ObjectExpression(environment) = property.value.without_parentheses()
            else {
                continue;
            };
            for entry in &environment.properties {
                let ObjectPropertyKind::ObjectProperty(entry) = entry else {
                    continue;
                };
                if let (Some(key), Some(value)) =
                    (entry.key.static_name(), literal_string(&entry.value))
                {
                    self.findings.environment.push(EnvLiteral {
                        key: key.into_owned(),
                        value,
                        offset: entry.span.start,
                    });
                }
            }
        }
    }
}

impl<'a> Visit<'a> for Finder {
    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        if self.is_export(&call.callee, &self.secret, "secret") {
            self.secret_call(call);
        } else if self.is_export(&call.callee, &self.define_function, "defineFunction") {
            self.define_function_call(call);
        }
        oxc_ast_visit::walk::walk_call_expression(self, call);
    }
}

/// `require('@aws-amplify/backend')`.
fn is_require_of_package(init: &Expression<'_>) -> bool {
    let Expression::CallExpression(call) = init.without_parentheses() else {
        return false;
    };
    matches!(&call.callee, Expression::Identifier(id) if id.name.as_str() == "require")
        && call
            .arguments
            .first()
            .and_then(literal_argument)
            .is_some_and(|source| source == PACKAGE)
}

fn literal_argument(argument: &Argument<'_>) -> Option<String> {
    argument.as_expression().and_then(literal_string)
}

/// A string literal, or a template literal without substitutions.
fn literal_string(expression: &Expression<'_>) -> Option<String> {
    match expression.without_parentheses() {
        Expression::StringLiteral(s) => Some(s.value.to_string()),
        Expression::TemplateLiteral(t) => t.single_quasi().map(|s| s.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str) -> Vec<String> {
        analyze(source, SourceType::ts())
            .unwrap()
            .secrets
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn only_imported_secret_calls_count() {
        let source = r#"
            import { secret, defineAuth } from '@aws-amplify/backend';
            // secret('IN_COMMENT')
            /* secret("IN_BLOCK") */
            const s = "secret('IN_STRING')";
            const t = `secret('IN_TEMPLATE')`;
            function other(secret2: string) { return secret2; }
            export const auth = defineAuth({
              externalProviders: { google: { clientId: secret('A'), clientSecret: secret("B") } },
            });
            const c = secret(`C`);
            const d = secret(`D_${s}`);
        "#;
        assert_eq!(names(source), ["A", "B", "C"]);
        let findings = analyze(source, SourceType::ts()).unwrap();
        assert_eq!(findings.dynamic.len(), 1);
    }

    #[test]
    fn aliases_namespaces_and_require() {
        assert_eq!(
            names("import { secret as s } from '@aws-amplify/backend'; s('X'); secret('NOT');"),
            ["X"]
        );
        assert_eq!(
            names("import * as amplify from '@aws-amplify/backend'; amplify.secret('Y');"),
            ["Y"]
        );
        assert_eq!(
            names("const { secret: get } = require('@aws-amplify/backend'); get('Z');"),
            ["Z"]
        );
        assert!(names("import { secret } from './local'; secret('NO');").is_empty());
        assert!(
            names("import type { secret } from '@aws-amplify/backend'; secret('NO');").is_empty()
        );
        // Imports are hoisted: a call before the import still counts.
        assert_eq!(
            names("const x = secret('EARLY'); import { secret } from '@aws-amplify/backend';"),
            ["EARLY"]
        );
    }

    #[test]
    fn environment_literals() {
        let source = r#"
            import { defineFunction as df, secret } from '@aws-amplify/backend';
            export const f = df({
              name: 'f',
              environment: { API_KEY: secret('API_KEY'), STRIPE_KEY: 'sk_live_x', 'MODE': `prod` },
            });
        "#;
        let findings = analyze(source, SourceType::ts()).unwrap();
        let env: Vec<(&str, &str)> = findings
            .environment
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(env, [("STRIPE_KEY", "sk_live_x"), ("MODE", "prod")]);
        assert_eq!(findings.secrets[0].name, "API_KEY");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let failure = analyze(
            "import { secret } from '@aws-amplify/backend';\nsecret('A'",
            SourceType::ts(),
        )
        .unwrap_err();
        assert!(failure.offset > 0, "{failure:?}");
    }
}
