//! Reading the root configuration file and its includes, and merging them.
//!
//! Why: a configuration is split per health plan (`include = ["plans/x.toml"]`, relative to the
//! including file); every file is parsed (syntax errors all reported), deserialized (typos and
//! wrong types reported with their span), merged (a key defined twice is an error) and then
//! validated as a whole by [`super::validate`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Policy;
use super::error::{ConfigError, LoadError, line_and_column};
use super::model::{ConfigFile, Plan, ProgramPolicy};

/// A file read, its text kept for line numbers.
#[derive(Debug)]
pub(super) struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// The files read so far and the errors found in them.
#[derive(Debug, Default)]
pub(super) struct Diagnostics {
    pub sources: Vec<Source>,
    pub errors: Vec<ConfigError>,
    /// Entries that exist but could not be read (`calendars.x`, `programs.y`, ...): references
    /// to them are not reported again as unknown.
    pub broken: std::collections::BTreeSet<String>,
}

impl Diagnostics {
    /// Records an error at `span` of file `file`.
    pub fn error(&mut self, file: usize, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let (path, (line, column)) = match self.sources.get(file) {
            Some(source) => (source.path.clone(), line_and_column(&source.text, span.start)),
            None => (PathBuf::new(), (1, 1)),
        };
        self.errors.push(ConfigError { file: path, line, column, field: field.into(), message: message.into() });
    }

    /// Whether `section.name` exists in some file but could not be deserialized.
    pub fn is_broken(&self, section: &str, name: &str) -> bool {
        self.broken.contains(&format!("{section}.{name}"))
    }

    /// Records an error at the key `path` of file `file` (e.g. `["plans", "cigna-commercial"]`),
    /// or at the file's start when the key cannot be found.
    pub fn error_at_key(&mut self, file: usize, path: &[&str], message: impl Into<String>) {
        let span = self.sources.get(file).and_then(|s| key_span(&s.text, path)).unwrap_or(0..0);
        self.error(file, span, path.join("."), message);
    }
}

/// One configuration file deserialized, with its index in [`Diagnostics::sources`].
#[derive(Debug)]
pub(super) struct ParsedFile {
    pub file: usize,
    pub config: ConfigFile,
}

pub(super) fn load(root: &Path, read: &dyn Fn(&Path) -> std::io::Result<String>) -> Result<Policy, LoadError> {
    let text = read(root).map_err(|source| LoadError::Read { path: root.to_path_buf(), source })?;
    let mut diagnostics = Diagnostics::default();
    let mut parsed = Vec::new();
    read_tree(root.to_path_buf(), text, read, &mut diagnostics, &mut parsed);
    let policy = super::validate::build(parsed, &mut diagnostics);
    if diagnostics.errors.is_empty() {
        return Ok(policy);
    }
    // In reading order of the files, then by place; the parser may report one place twice.
    let order = |error: &ConfigError| diagnostics.sources.iter().position(|s| s.path == error.file);
    let mut errors = diagnostics.errors.clone();
    errors.sort_by_key(|e| (order(e), e.line, e.column));
    errors.dedup();
    Err(LoadError::Invalid(errors))
}

/// Reads `path` (already read as `text`) and, depth first, the files it includes.
fn read_tree(
    path: PathBuf,
    text: String,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    diagnostics: &mut Diagnostics,
    parsed: &mut Vec<ParsedFile>,
) {
    let file = diagnostics.sources.len();
    diagnostics.sources.push(Source { path: path.clone(), text });
    let Some(config) = parse(file, diagnostics) else {
        return;
    };
    let includes: Vec<_> = config.include.iter().map(|i| (i.get_ref().clone(), i.span())).collect();
    parsed.push(ParsedFile { file, config });
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for (index, (include, span)) in includes.into_iter().enumerate() {
        let field = format!("include[{index}]");
        let target = base.join(&include);
        if diagnostics.sources.iter().any(|s| same_file(&s.path, &target)) {
            diagnostics.error(file, span, field, format!("`{include}` is already included (include cycle or repeat)"));
            continue;
        }
        match read(&target) {
            Ok(text) => read_tree(target, text, read, diagnostics, parsed),
            Err(e) => diagnostics.error(file, span, field, format!("cannot read `{}`: {e}", target.display())),
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Parses one file: every syntax error, else the first deserialization error of each entry, is
/// recorded. `None` only on syntax errors.
fn parse(file: usize, diagnostics: &mut Diagnostics) -> Option<ConfigFile> {
    let text = diagnostics.sources.get(file).map(|s| s.text.clone()).unwrap_or_default();
    let (_, syntax_errors) = DeTable::parse_recoverable(&text);
    if !syntax_errors.is_empty() {
        for error in syntax_errors {
            let span = error.span().unwrap_or(0..0);
            let field = line_field(&text, span.start)
                .or_else(|| field_at(&text, span.start))
                .unwrap_or_else(|| "(syntax)".to_owned());
            diagnostics.error(file, span, field, first_line(error.message()));
        }
        return None;
    }
    let (config, errors, broken) = deserialize_piecewise(&text);
    diagnostics.broken.extend(broken);
    for (span, message) in &errors {
        let field = field_at(&text, span.start).unwrap_or_else(|| "(root)".to_owned());
        diagnostics.error(file, span.clone(), field, first_line(message));
    }
    // What could be read is kept: its includes are read and its entries checked too.
    Some(config)
}

/// Deserializes a syntactically valid file section by section and entry by entry (each plan,
/// each program entry of a plan, each calendar, ...), so that a mistake in one entry does not
/// hide the mistakes of the others: serde stops at the first error of what it deserializes.
fn deserialize_piecewise(text: &str) -> (ConfigFile, Found, Vec<String>) {
    let mut errors = Vec::new();
    let mut broken = Vec::new();
    let mut config = ConfigFile::default();
    let root = match DeTable::parse(text) {
        Ok(root) => root.into_inner(),
        Err(error) => return (config, vec![(error.span().unwrap_or(0..0), error.message().to_owned())], broken),
    };
    for (key, value) in root {
        match key.get_ref().as_ref() {
            "include" => config.include = entry(value, &mut errors).unwrap_or_default(),
            "server" => config.server = super::server::section(value, &mut errors),
            "mailbox" => config.mailbox = entry(value, &mut errors),
            "gateway" => errors.push((
                key.span(),
                "`[gateway]` is now `[server]`: move `listen` there; the database is chosen with --db or \
                 UMGATE_DATABASE_URL"
                    .to_owned(),
            )),
            "intake" => config.intake = entry(value, &mut errors),
            "partners" => config.partners = entry(value, &mut errors).unwrap_or_default(),
            "calendars" => config.calendars = entries("calendars", value, &mut errors, &mut broken),
            "upload_profiles" => config.upload_profiles = entries("upload_profiles", value, &mut errors, &mut broken),
            "authorization_exemptions" => config.authorization_exemptions = entry(value, &mut errors),
            "programs" => config.programs = entries("programs", value, &mut errors, &mut broken),
            "plans" => config.plans = plans(value, &mut errors, &mut broken),
            "reason_codes" => config.reason_codes = entry(value, &mut errors).unwrap_or_default(),
            other => {
                errors.push((
                    key.span(),
                    format!(
                        "unknown field `{other}`, expected one of `include`, `server`, `mailbox`, `intake`, `partners`, `calendars`, \
                         `upload_profiles`, `authorization_exemptions`, `programs`, `plans`, `reason_codes`"
                    ),
                ));
            }
        }
    }
    (config, errors, broken)
}

/// Deserialization errors found: span (the value's when serde gives none) and message.
pub(super) type Found = Vec<(Range<usize>, String)>;

/// One value deserialized with its spans; the error is recorded.
pub(super) fn entry<'i, T: serde::Deserialize<'i>>(value: Spanned<DeValue<'i>>, errors: &mut Found) -> Option<T> {
    let span = value.span();
    T::deserialize(toml::de::ValueDeserializer::from(value))
        .map_err(|e| errors.push((e.span().unwrap_or(span), e.message().to_owned())))
        .ok()
}

/// A table of named entries, each deserialized on its own; those that fail are named
/// `section.key` in `broken`.
fn entries<'i, T: serde::Deserialize<'i>>(
    section: &str,
    value: Spanned<DeValue<'i>>,
    errors: &mut Found,
    broken: &mut Vec<String>,
) -> BTreeMap<String, T> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(table) => table
            .into_iter()
            .filter_map(|(key, value)| {
                let name = key.get_ref().to_string();
                let parsed = entry(value, errors);
                if parsed.is_none() {
                    broken.push(format!("{section}.{name}"));
                }
                Some((name, parsed?))
            })
            .collect(),
        other => entry(Spanned::new(span, other), errors).unwrap_or_default(),
    }
}

/// Plans: each plan without its program entries, then each program entry on its own.
fn plans(value: Spanned<DeValue<'_>>, errors: &mut Found, broken: &mut Vec<String>) -> BTreeMap<String, Plan> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        errors.push((span, "must be a table of plans: [plans.<key>]".to_owned()));
        return BTreeMap::new();
    };
    let mut plans = BTreeMap::new();
    for (key, value) in table {
        let span = value.span();
        let (plan_value, programs) = match value.into_inner() {
            DeValue::Table(mut plan_table) => {
                let programs = plan_table.remove("programs");
                (DeValue::Table(plan_table), programs)
            }
            other => (other, None),
        };
        let plan: Option<Plan> = entry(Spanned::new(span, plan_value), errors);
        let section = format!("plans.{}.programs", key.get_ref());
        let programs: BTreeMap<String, ProgramPolicy> =
            programs.map(|p| entries(&section, p, errors, broken)).unwrap_or_default();
        match plan {
            Some(mut plan) => {
                plan.programs = programs;
                plans.insert(key.get_ref().to_string(), plan);
            }
            None => broken.push(format!("plans.{}", key.get_ref())),
        }
    }
    plans
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

/// The dotted path of the deepest key or value of `text` that contains byte `offset`.
pub(super) fn field_at(text: &str, offset: usize) -> Option<String> {
    let (table, _) = DeTable::parse_recoverable(text);
    let mut best: Option<(usize, String)> = None;
    search_table(table.get_ref(), "", offset, &mut best);
    best.map(|(_, path)| path)
}

fn search_table(table: &DeTable<'_>, prefix: &str, offset: usize, best: &mut Option<(usize, String)>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
        search_value(key.span(), value.span(), value.get_ref(), path, offset, best);
    }
}

fn search_value(
    key_span: Range<usize>,
    value_span: Range<usize>,
    value: &DeValue<'_>,
    path: String,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    let inside = |span: &Range<usize>| span.start <= offset && offset < span.end.max(span.start + 1);
    if inside(&key_span) || inside(&value_span) {
        // The narrowest enclosing span wins: that is the deepest field.
        let width = if inside(&key_span) { key_span.len() } else { value_span.len() };
        if best.as_ref().is_none_or(|(w, _)| width <= *w) {
            *best = Some((width, path.clone()));
        }
    }
    match value {
        DeValue::Table(table) => search_table(table, &path, offset, best),
        DeValue::Array(array) => {
            for (index, item) in array.iter().enumerate() {
                search_value(0..0, item.span(), item.get_ref(), format!("{path}[{index}]"), offset, best);
            }
        }
        _ => {}
    }
}

/// For a syntax error, where the parser has no tree: the dotted key of the line at `offset`,
/// after the nearest `[table]` header above it (`plans.x.name` for `name = "unterminated`).
fn line_field(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next().unwrap_or("");
    let header = before[..line_start]
        .lines()
        .chain(std::iter::once(line))
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_start_matches('[').split(']').next().unwrap_or("").trim().to_owned());
    let key = line.split_once('=').map(|(k, _)| k.trim()).filter(|k| !k.is_empty() && !k.starts_with('['));
    match (header, key) {
        (Some(header), Some(key)) if !header.is_empty() => Some(format!("{header}.{key}")),
        (_, Some(key)) => Some(key.to_owned()),
        (Some(header), None) if !header.is_empty() => Some(header),
        _ => None,
    }
}

/// The span of the key at `path` (`["plans", "x", "programs"]`) in `text`.
pub(super) fn key_span(text: &str, path: &[&str]) -> Option<Range<usize>> {
    let (table, _) = DeTable::parse_recoverable(text);
    let mut current: &DeTable<'_> = table.get_ref();
    let mut span = None;
    for (depth, segment) in path.iter().enumerate() {
        let (key, value) = current.iter().find(|(k, _)| k.get_ref() == segment)?;
        span = Some(key.span());
        if depth + 1 < path.len() {
            match value.get_ref() {
                DeValue::Table(table) => current = table,
                _ => return span,
            }
        }
    }
    span
}

/// A map from entry key to the file it was defined in, reporting keys defined twice.
pub(super) fn merge_map<T>(
    into: &mut BTreeMap<String, T>,
    origin: &mut BTreeMap<String, usize>,
    from: BTreeMap<String, T>,
    file: usize,
    section: &str,
    diagnostics: &mut Diagnostics,
) {
    for (key, value) in from {
        if let Some(first) = origin.get(&key) {
            let first_path = diagnostics.sources.get(*first).map(|s| s.path.display().to_string()).unwrap_or_default();
            diagnostics.error_at_key(file, &[section, &key], format!("`{key}` is already defined in {first_path}"));
            continue;
        }
        origin.insert(key.clone(), file);
        into.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_at_finds_the_deepest_key() {
        let text = "[plans.a]\nname = \"A\"\n\n[plans.a.programs.x]\nurgent_decision = { hours = 0 }\n";
        let offset = text.find("hours").unwrap_or(0);
        assert_eq!(field_at(text, offset).as_deref(), Some("plans.a.programs.x.urgent_decision.hours"));
        let offset = text.find("\"A\"").unwrap_or(0);
        assert_eq!(field_at(text, offset).as_deref(), Some("plans.a.name"));
    }

    #[test]
    fn field_at_indexes_arrays() {
        let text = "[[partners]]\nkey = \"demo\"\n[[partners]]\nkey = \"b\"\n";
        let offset = text.find("\"b\"").unwrap_or(0);
        assert_eq!(field_at(text, offset).as_deref(), Some("partners[1].key"));
    }

    #[test]
    fn syntax_errors_are_named_by_their_line() {
        let text = "[[partners]]\nkey = \"demo\"\n\n[plans.a]\nname = \"unterminated\n";
        let offset = text.find("\"unterminated").unwrap_or(0);
        assert_eq!(line_field(text, offset).as_deref(), Some("plans.a.name"));
        assert_eq!(line_field("x = [", 4).as_deref(), Some("x"));
        assert_eq!(line_field("[plans.a\n", 8).as_deref(), Some("plans.a"));
    }

    #[test]
    fn key_span_points_at_table_headers() {
        let text = "[calendars.us]\nholidays = []\n";
        let span = key_span(text, &["calendars", "us"]).unwrap_or(0..0);
        assert_eq!(&text[span], "us");
    }
}
