//! The grammar files as they are written (`grammars/*.yaml`), before compilation.
//!
//! Kept apart from the compiled form so that the file format can stay friendly to authors
//! (defaults, overrides by element name) while the engine works on resolved, indexed data.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuide {
    /// Implementation guide identifier as it appears in GS08 / ST03, e.g. `005010X217`.
    pub guide: String,
    pub name: String,
    /// Other GS08/ST03 values read with this guide (e.g. `005010X231` for `005010X231A1`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Base (X12 standard) segment definitions used by this guide.
    pub segments: BTreeMap<String, RawSegmentDef>,
    pub transactions: Vec<RawTransaction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSegmentDef {
    pub name: String,
    pub elements: Vec<RawElementDef>,
    /// X12 syntax notes: `P0102` paired, `R0203` at least one, `E0102` exclusion,
    /// `C0203` conditional, `L010203` list conditional.
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawElementDef {
    /// Data element reference number (`628`) or composite identifier (`C023`).
    #[serde(rename = "ref")]
    pub ref_id: String,
    pub name: String,
    /// Standard requirement designator: `M` mandatory or `O` optional.
    #[serde(default = "optional")]
    pub req: String,
    /// Data type: AN, ID, DT, TM, N0..N9, R. Absent for composites.
    #[serde(rename = "type", default)]
    pub data_type: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<u32>,
    /// Maximum repetitions (repeating elements such as EB03).
    #[serde(default = "one")]
    pub repeat: u32,
    /// Components, for a composite element.
    #[serde(default)]
    pub components: Vec<RawElementDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransaction {
    pub name: String,
    pub transaction_set: String,
    pub functional_group: String,
    /// Element values that pick this transaction among those of the same set in the guide,
    /// e.g. `{BHT02: ["13"]}` for a request, `{BHT02: ["11"]}` for a response.
    #[serde(default)]
    pub select: BTreeMap<String, Vec<String>>,
    /// The element that identifies a business unit in this transaction (`TRN02`), quoted in the
    /// 999's CTX for each segment error.
    #[serde(default)]
    pub business_unit: Option<String>,
    pub structure: Vec<RawNode>,
}

/// One entry of a structure list: a segment usage (`seg`) or a loop (`loop`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    #[serde(default)]
    pub seg: Option<String>,
    #[serde(rename = "loop", default)]
    pub loop_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `R` required, `S` situational, `N` not used.
    pub usage: String,
    #[serde(default)]
    pub max: Option<RawMax>,
    /// Segment only: element values that tell this usage apart from sibling usages of the same
    /// segment (`{NM101: ["X3"]}`); they are also the element's allowed codes.
    #[serde(default)]
    pub key: BTreeMap<String, Vec<String>>,
    /// Segment only: element usages that differ from the standard's (`HL02: N`,
    /// `UM01: {codes: ["AR", "HS"]}`); keys are `SEGnn` or `SEGnn-c` for a component.
    #[serde(default)]
    pub elements: BTreeMap<String, RawElementOverride>,
    /// Loop only: its segments and child loops in order; the first is the loop's trigger.
    #[serde(default)]
    pub structure: Vec<RawNode>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawMax {
    Count(u32),
    /// `unbounded` (the guides' `>1`).
    Word(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawElementOverride {
    /// Just the usage: `R`, `S` or `N`.
    Usage(String),
    Full(RawElementDetail),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawElementDetail {
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub codes: Option<Vec<String>>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<u32>,
    #[serde(default)]
    pub repeat: Option<u32>,
}

fn optional() -> String {
    "O".to_owned()
}

fn one() -> u32 {
    1
}
