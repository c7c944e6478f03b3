//! Turns a grammar file into the compiled model, checking every reference on the way so that a
//! mistake in a guide file is reported at load time with its path, never met at validation time.

use std::collections::BTreeMap;

use super::model::{
    DataType, ElementUsage, Guide, Loop, Node, SegmentTag, SegmentUsage, SyntaxRule, Transaction, Usage,
};
use super::raw::{RawElementDef, RawElementOverride, RawGuide, RawMax, RawNode, RawSegmentDef};

/// A grammar file that cannot be used, with where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum GrammarError {
    #[error("{file}: {source}")]
    Syntax {
        file: String,
        #[source]
        source: serde_norway::Error,
    },
    #[error("{file}: at {path}: {message}")]
    Invalid { file: String, path: String, message: String },
}

pub fn compile_guide(file: &str, text: &str) -> Result<Guide, GrammarError> {
    let raw: RawGuide =
        serde_norway::from_str(text).map_err(|source| GrammarError::Syntax { file: file.to_owned(), source })?;
    let compiler = Compiler { file, segments: &raw.segments };
    let mut transactions = Vec::new();
    for (index, raw_tx) in raw.transactions.iter().enumerate() {
        let path = format!("transactions[{index}] ({})", raw_tx.name);
        let mut select = Vec::new();
        for (key, values) in &raw_tx.select {
            let (segment, element, _) = compiler.parse_element_key(&path, key)?;
            select.push((segment, element, values.clone()));
        }
        let children = compiler.nodes(&path, &raw_tx.structure)?;
        let mut segment_ids = std::collections::BTreeSet::new();
        collect_ids(&children, &mut segment_ids);
        let business_unit = match &raw_tx.business_unit {
            Some(key) => {
                let (segment, element, _) = compiler.parse_element_key(&path, key)?;
                Some((segment, element))
            }
            None => None,
        };
        transactions.push(Transaction {
            business_unit,
            segment_ids,
            name: raw_tx.name.clone(),
            transaction_set: raw_tx.transaction_set.clone(),
            functional_group: raw_tx.functional_group.clone(),
            select,
            root: Loop { id: String::new(), name: raw_tx.name.clone(), usage: Usage::Required, max: 1, children },
        });
    }
    if transactions.is_empty() {
        return Err(compiler.invalid("transactions", "a guide needs at least one transaction"));
    }
    Ok(Guide { id: raw.guide, aliases: raw.aliases, name: raw.name, transactions })
}

struct Compiler<'a> {
    file: &'a str,
    segments: &'a BTreeMap<String, RawSegmentDef>,
}

impl Compiler<'_> {
    fn invalid(&self, path: &str, message: impl Into<String>) -> GrammarError {
        GrammarError::Invalid { file: self.file.to_owned(), path: path.to_owned(), message: message.into() }
    }

    fn nodes(&self, path: &str, raw: &[RawNode]) -> Result<Vec<Node>, GrammarError> {
        raw.iter().enumerate().map(|(index, node)| self.node(path, index, node)).collect()
    }

    fn node(&self, parent: &str, index: usize, raw: &RawNode) -> Result<Node, GrammarError> {
        match (&raw.seg, &raw.loop_id) {
            (Some(seg), None) => {
                let path = format!("{parent} > {seg}[{index}]");
                if !raw.structure.is_empty() {
                    return Err(self.invalid(&path, "a segment has no `structure`"));
                }
                Ok(Node::Segment(self.segment(&path, seg, raw)?))
            }
            (None, Some(loop_id)) => {
                let path = format!("{parent} > loop {loop_id}");
                if !raw.key.is_empty() || !raw.elements.is_empty() {
                    return Err(self.invalid(&path, "`key` and `elements` belong on the loop's trigger segment"));
                }
                let children = self.nodes(&path, &raw.structure)?;
                match children.first() {
                    Some(Node::Segment(_)) => {}
                    _ => return Err(self.invalid(&path, "a loop must start with its trigger segment")),
                }
                Ok(Node::Loop(Loop {
                    id: loop_id.clone(),
                    name: raw.name.clone().unwrap_or_default(),
                    usage: self.usage(&path, &raw.usage)?,
                    max: self.max(&path, raw.max.as_ref())?,
                    children,
                }))
            }
            _ => Err(self
                .invalid(&format!("{parent} > [{index}]"), "each structure entry has exactly one of `seg` or `loop`")),
        }
    }

    fn segment(&self, path: &str, id: &str, raw: &RawNode) -> Result<SegmentUsage, GrammarError> {
        let def = self
            .segments
            .get(id)
            .ok_or_else(|| self.invalid(path, format!("segment {id} is not defined under `segments`")))?;
        let mut elements: Vec<ElementUsage> = def
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| self.element_def(&format!("{path} {id}{:02}", i + 1), e))
            .collect::<Result<_, _>>()?;
        for (key, value) in &raw.elements {
            let (segment, position, component) = self.parse_element_key(path, key)?;
            let element = self.locate(path, id, &segment, key, position, component, &mut elements)?;
            self.apply_override(&format!("{path} {key}"), element, value)?;
        }
        let mut key = None;
        if raw.key.len() > 1 {
            return Err(self.invalid(path, "a segment usage has at most one key element"));
        }
        if let Some((name, values)) = raw.key.iter().next() {
            let (segment, position, component) = self.parse_element_key(path, name)?;
            let element = self.locate(path, id, &segment, name, position, component, &mut elements)?;
            if values.is_empty() {
                return Err(self.invalid(path, format!("key {name} lists no values")));
            }
            // A key value is by definition an allowed code of the element.
            if element.codes.is_none() {
                element.codes = Some(values.clone());
            }
            key = Some((position, component, values.clone()));
        }
        let rules = def
            .rules
            .iter()
            .map(|rule| parse_rule(rule).ok_or_else(|| self.invalid(path, format!("bad syntax rule {rule}"))))
            .collect::<Result<Vec<_>, _>>()?;
        for rule in &rules {
            let positions = rule_positions(rule);
            if positions.iter().any(|p| *p == 0 || *p > elements.len()) {
                return Err(self.invalid(path, format!("syntax rule {rule:?} names an element {id} does not have")));
            }
        }
        let tag = SegmentTag::of(id.as_bytes())
            .ok_or_else(|| self.invalid(path, format!("segment id {id:?} is not 1 to 3 characters")))?;
        Ok(SegmentUsage {
            id: id.to_owned(),
            tag,
            name: raw.name.clone().unwrap_or_else(|| def.name.clone()),
            usage: self.usage(path, &raw.usage)?,
            max: self.max(path, raw.max.as_ref())?,
            key,
            elements,
            rules,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn locate<'e>(
        &self,
        path: &str,
        id: &str,
        segment: &str,
        key: &str,
        position: usize,
        component: usize,
        elements: &'e mut [ElementUsage],
    ) -> Result<&'e mut ElementUsage, GrammarError> {
        if segment != id {
            return Err(self.invalid(path, format!("element {key} does not belong to segment {id}")));
        }
        let element = elements
            .get_mut(position.wrapping_sub(1))
            .ok_or_else(|| self.invalid(path, format!("{id} has no element {key}")))?;
        if component == 0 {
            return Ok(element);
        }
        element.components.get_mut(component - 1).ok_or_else(|| self.invalid(path, format!("{key}: no such component")))
    }

    fn element_def(&self, path: &str, raw: &RawElementDef) -> Result<ElementUsage, GrammarError> {
        let usage = match raw.req.as_str() {
            "M" => Usage::Required,
            "O" => Usage::Situational,
            other => return Err(self.invalid(path, format!("req is M or O, not {other}"))),
        };
        let components = raw
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| self.element_def(&format!("{path}-{}", i + 1), c))
            .collect::<Result<Vec<_>, _>>()?;
        let data_type = match (&raw.data_type, components.is_empty()) {
            (Some(t), true) => Some(parse_type(t).ok_or_else(|| self.invalid(path, format!("unknown data type {t}")))?),
            (None, false) => None,
            (Some(_), false) => return Err(self.invalid(path, "a composite has components, not a type")),
            (None, true) => return Err(self.invalid(path, "a simple element needs a type")),
        };
        let (min, max) = match (raw.min, raw.max, data_type.is_some()) {
            (Some(min), Some(max), true) if min <= max && max > 0 => (min, max),
            (None, None, false) => (0, 0),
            _ => return Err(self.invalid(path, "a simple element needs min <= max (max > 0); a composite has neither")),
        };
        Ok(ElementUsage {
            ref_id: raw.ref_id.clone(),
            name: raw.name.clone(),
            usage,
            data_type,
            min,
            max,
            repeat: raw.repeat.max(1),
            codes: None,
            components,
        })
    }

    fn apply_override(
        &self,
        path: &str,
        element: &mut ElementUsage,
        raw: &RawElementOverride,
    ) -> Result<(), GrammarError> {
        match raw {
            RawElementOverride::Usage(usage) => element.usage = self.usage(path, usage)?,
            RawElementOverride::Full(detail) => {
                if let Some(usage) = &detail.usage {
                    element.usage = self.usage(path, usage)?;
                }
                if let Some(codes) = &detail.codes {
                    if element.is_composite() {
                        return Err(self.invalid(path, "codes belong on a component, not a composite"));
                    }
                    element.codes = Some(codes.clone());
                }
                if let Some(min) = detail.min {
                    element.min = min;
                }
                if let Some(max) = detail.max {
                    element.max = max;
                }
                if let Some(repeat) = detail.repeat {
                    element.repeat = repeat.max(1);
                }
                if element.data_type.is_some() && element.min > element.max {
                    return Err(self.invalid(path, "min exceeds max"));
                }
            }
        }
        Ok(())
    }

    /// `HL03` -> ("HL", 3, 0); `UM04-1` -> ("UM", 4, 1).
    fn parse_element_key(&self, path: &str, key: &str) -> Result<(String, usize, usize), GrammarError> {
        parse_element_key(key)
            .ok_or_else(|| self.invalid(path, format!("`{key}` is not an element name like HL03 or UM04-1")))
    }

    fn usage(&self, path: &str, text: &str) -> Result<Usage, GrammarError> {
        match text {
            "R" => Ok(Usage::Required),
            "S" => Ok(Usage::Situational),
            "N" => Ok(Usage::NotUsed),
            other => Err(self.invalid(path, format!("usage is R, S or N, not {other}"))),
        }
    }

    fn max(&self, path: &str, raw: Option<&RawMax>) -> Result<u32, GrammarError> {
        match raw {
            None => Ok(1),
            Some(RawMax::Count(0)) => Err(self.invalid(path, "max must be at least 1")),
            Some(RawMax::Count(n)) => Ok(*n),
            Some(RawMax::Word(word)) if word == "unbounded" => Ok(u32::MAX),
            Some(RawMax::Word(word)) => Err(self.invalid(path, format!("max is a number or `unbounded`, not {word}"))),
        }
    }
}

fn collect_ids(nodes: &[Node], ids: &mut std::collections::BTreeSet<String>) {
    for node in nodes {
        match node {
            Node::Segment(segment) => {
                ids.insert(segment.id.clone());
            }
            Node::Loop(lp) => collect_ids(&lp.children, ids),
        }
    }
}

pub(crate) fn parse_element_key(key: &str) -> Option<(String, usize, usize)> {
    let (element, component) = match key.split_once('-') {
        Some((element, component)) => (element, component.parse::<usize>().ok().filter(|c| *c > 0)?),
        None => (key, 0),
    };
    if element.len() < 4 {
        return None;
    }
    let (segment, position) = element.split_at(element.len() - 2);
    let position = position.parse::<usize>().ok().filter(|p| *p > 0)?;
    if !(2..=3).contains(&segment.len()) || !segment.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return None;
    }
    Some((segment.to_owned(), position, component))
}

fn parse_type(text: &str) -> Option<DataType> {
    match text {
        "AN" => Some(DataType::String),
        "ID" => Some(DataType::Identifier),
        "DT" => Some(DataType::Date),
        "TM" => Some(DataType::Time),
        "R" => Some(DataType::Decimal),
        n if n.len() == 2 && n.starts_with('N') => n[1..].parse::<u8>().ok().map(DataType::Numeric),
        _ => None,
    }
}

/// `P0102`, `C040506`, ... (X12 syntax notes; positions are two digits each).
pub(crate) fn parse_rule(text: &str) -> Option<SyntaxRule> {
    let (kind, digits) = text.split_at_checked(1)?;
    if digits.len() < 4 || digits.len() % 2 != 0 {
        return None;
    }
    let positions = digits
        .as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).ok()?.parse::<usize>().ok())
        .collect::<Option<Vec<_>>>()?;
    let (first, rest) = positions.split_first()?;
    match kind {
        "P" => Some(SyntaxRule::Paired(positions.clone())),
        "R" => Some(SyntaxRule::AtLeastOne(positions.clone())),
        "E" => Some(SyntaxRule::Exclusion(positions.clone())),
        "C" => Some(SyntaxRule::Conditional(*first, rest.to_vec())),
        "L" => Some(SyntaxRule::ListConditional(*first, rest.to_vec())),
        _ => None,
    }
}

fn rule_positions(rule: &SyntaxRule) -> Vec<usize> {
    match rule {
        SyntaxRule::Paired(p) | SyntaxRule::AtLeastOne(p) | SyntaxRule::Exclusion(p) => p.clone(),
        SyntaxRule::Conditional(first, rest) | SyntaxRule::ListConditional(first, rest) => {
            std::iter::once(*first).chain(rest.iter().copied()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_keys() {
        assert_eq!(parse_element_key("HL03"), Some(("HL".into(), 3, 0)));
        assert_eq!(parse_element_key("UM04-1"), Some(("UM".into(), 4, 1)));
        assert_eq!(parse_element_key("N301"), Some(("N3".into(), 1, 0)));
        assert_eq!(parse_element_key("HL3"), None);
        assert_eq!(parse_element_key("hl03"), None);
    }

    #[test]
    fn syntax_rules() {
        assert_eq!(parse_rule("P0102"), Some(SyntaxRule::Paired(vec![1, 2])));
        assert_eq!(parse_rule("C040506"), Some(SyntaxRule::Conditional(4, vec![5, 6])));
        assert_eq!(parse_rule("X0102"), None);
        assert_eq!(parse_rule("P012"), None);
    }

    #[test]
    fn a_minimal_guide_compiles_and_mistakes_are_located() {
        let good = r#"
guide: TEST
name: test
segments:
  ST: {name: Transaction Set Header, elements: [
      {ref: "143", name: Transaction Set Identifier Code, req: M, type: ID, min: 3, max: 3},
      {ref: "329", name: Transaction Set Control Number, req: M, type: AN, min: 4, max: 9}]}
  SE: {name: Transaction Set Trailer, elements: [
      {ref: "96", name: Number of Included Segments, req: M, type: N0, min: 1, max: 10},
      {ref: "329", name: Transaction Set Control Number, req: M, type: AN, min: 4, max: 9}]}
transactions:
  - name: only
    transaction_set: "999"
    functional_group: FA
    structure:
      - {seg: ST, usage: R, elements: {ST01: {codes: ["999"]}}}
      - {seg: SE, usage: R}
"#;
        let guide = compile_guide("test.yaml", good).expect("compiles");
        let Node::Segment(st) = &guide.transactions[0].root.children[0] else { panic!("ST first") };
        assert_eq!(st.elements[0].codes.as_deref(), Some(&["999".to_owned()][..]));
        let bad = good.replace("ST01: {codes", "ST07: {codes");
        let error = compile_guide("test.yaml", &bad).expect_err("ST07 does not exist").to_string();
        assert!(error.contains("test.yaml") && error.contains("ST07"), "{error}");
    }
}
