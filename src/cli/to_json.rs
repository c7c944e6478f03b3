//! `umgate to-json`: an interchange file as a JSON tree of interchanges, groups, transaction
//! sets, the guide's loops, segments and elements.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use crate::grammar::{GuideSet, Placement, SetValidator};
use crate::validation::{InterchangeReport, Observer, SetReport, validate_stream};
use crate::x12::{IsaHeader, OwnedSegment, Segment};

#[derive(Default)]
struct TreeBuilder {
    interchanges: Vec<Value>,
    current: Option<Value>,
    group: Option<Value>,
    /// The set being read: its loop stack, as (instance serial, node) with the root first.
    stack: Vec<(u64, Value)>,
}

fn element_json(element: &[Vec<String>]) -> Value {
    let repetition = |components: &Vec<String>| {
        if components.len() == 1 { json!(components[0]) } else { json!(components) }
    };
    match element {
        [single] => repetition(single),
        many => json!({"repeats": many.iter().map(repetition).collect::<Vec<_>>()}),
    }
}

fn segment_json(segment: &Segment<'_>) -> Value {
    let owned = OwnedSegment::parse(&segment.raw, &segment.delimiters);
    json!({
        "segment": owned.id,
        "elements": owned.elements.iter().map(|e| element_json(e)).collect::<Vec<_>>(),
    })
}

fn push_child(node: &mut Value, child: Value) {
    if let Some(children) = node.get_mut("children").and_then(Value::as_array_mut) {
        children.push(child);
    }
}

impl TreeBuilder {
    fn close_loops_to(&mut self, depth: usize) {
        while self.stack.len() > depth.max(1) {
            if let Some((_, node)) = self.stack.pop() {
                if let Some((_, parent)) = self.stack.last_mut() {
                    push_child(parent, node);
                }
            }
        }
    }
}

impl Observer for TreeBuilder {
    fn interchange_start(&mut self, header: &IsaHeader) {
        self.current = Some(json!({"ISA": header.fields, "groups": [], "envelope": []}));
    }

    fn envelope_segment(&mut self, segment: &Segment<'_>) {
        let Some(interchange) = self.current.as_mut() else { return };
        let value = segment_json(segment);
        match segment.id() {
            b"GS" => self.group = Some(json!({"GS": value["elements"].clone(), "sets": []})),
            b"GE" => {
                if let Some(mut group) = self.group.take() {
                    group["GE"] = value["elements"].clone();
                    if let Some(groups) = interchange["groups"].as_array_mut() {
                        groups.push(group);
                    }
                }
            }
            b"IEA" => interchange["IEA"] = value["elements"].clone(),
            b"ST" => {
                self.stack = vec![(0, json!({"children": []}))];
            }
            _ => {
                if let Some(envelope) = interchange["envelope"].as_array_mut() {
                    envelope.push(value);
                }
            }
        }
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
        if self.stack.is_empty() {
            self.stack.push((0, json!({"children": []})));
        }
        let open: Vec<_> = validator.open_loops().collect();
        let mut common = 0;
        while common < open.len() && common + 1 < self.stack.len() && self.stack[common + 1].0 == open[common].1 {
            common += 1;
        }
        if placement == Placement::Placed {
            self.close_loops_to(common + 1);
            for (lp, serial) in &open[common..] {
                self.stack.push((*serial, json!({"loop": lp.id, "name": lp.name, "children": []})));
            }
        }
        let mut value = segment_json(segment);
        if placement == Placement::Unplaced {
            value["unplaced"] = json!(true);
        }
        if let Some((_, top)) = self.stack.last_mut() {
            push_child(top, value);
        }
    }

    fn set_end(&mut self, report: &SetReport) {
        self.close_loops_to(1);
        let root = self.stack.pop().map(|(_, node)| node).unwrap_or_else(|| json!({"children": []}));
        let set = json!({
            "st01": report.st01, "st02": report.st02, "guide": report.guide,
            "transaction": report.transaction, "ack": report.ack.code(), "children": root["children"],
        });
        if let Some(group) = self.group.as_mut().and_then(|g| g["sets"].as_array_mut()) {
            group.push(set);
        }
    }

    fn interchange_end(&mut self, report: InterchangeReport) {
        let mut interchange = self.current.take().unwrap_or_else(|| json!({"groups": []}));
        if let Some(group) = self.group.take() {
            if let Some(groups) = interchange["groups"].as_array_mut() {
                groups.push(group);
            }
        }
        interchange["ta1"] =
            report.ta1.map(|t| json!({"ack": t.ack.code(), "note_code": t.note.code()})).unwrap_or(Value::Null);
        if let Some(problem) = report.problem {
            interchange["problem"] = json!(problem);
        }
        self.interchanges.push(interchange);
    }
}

pub fn run(path: &Path, guides: &GuideSet) -> anyhow::Result<Value> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut builder = TreeBuilder::default();
    validate_stream(file, &path.display().to_string(), guides, &mut builder)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(json!({"file": path.display().to_string(), "interchanges": builder.interchanges}))
}
