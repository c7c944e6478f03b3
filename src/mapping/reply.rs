//! The envelope of business answers (278 responses, X215 responses, 271s): one interchange per
//! inbound interchange, addressed back to its sender (ISA and GS sender/receiver swapped), one
//! functional group per inbound group answered, sets numbered 0001.. within each group, control
//! numbers from the caller's `ControlNumbers`.

use crate::ack::{ControlNumbers, Outbound};
use crate::mapping::tree::InterchangeTrees;
use crate::x12::envelope::{gs_id, reply_isa};
use crate::x12::{Delimiters, OwnedSegment, Writer};

/// Writes one answer set (ST to SE) given its ST02.
pub type WriteSet<'a> = Box<dyn Fn(&str) -> Vec<OwnedSegment> + 'a>;

/// One answer set to write: the inbound group it answers and its segments (ST to SE) given its
/// ST02.
pub struct ReplySet<'a> {
    pub group_index: usize,
    pub write: WriteSet<'a>,
}

impl std::fmt::Debug for ReplySet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplySet").field("group_index", &self.group_index).finish()
    }
}

/// The reply interchange (GS01 `functional_group`, GS08 `guide`); `None` when there is nothing to
/// answer or the inbound header could not be read.
pub fn write_reply_interchange(
    trees: &InterchangeTrees,
    sets: &[ReplySet<'_>],
    functional_group: &str,
    guide: &str,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let header = trees.header()?;
    if sets.is_empty() {
        return None;
    }
    let control = numbers.next_interchange();
    let mut writer = Writer::new(Delimiters::OUTBOUND, &outbound.line_break);
    writer.raw(&reply_isa(Some(header), &outbound.at, control));
    let (date, time) = (outbound.at.format("%Y%m%d").to_string(), outbound.at.format("%H%M").to_string());
    let mut groups = 0;
    let mut start = 0;
    while start < sets.len() {
        // Consecutive sets of one inbound group share a functional group.
        let group_index = sets[start].group_index;
        let end = sets[start..].iter().position(|s| s.group_index != group_index).map_or(sets.len(), |n| start + n);
        let group = trees.report.groups.get(group_index);
        let group_control = numbers.next_group().to_string();
        let (gs02, gs03) = group.map_or(("", ""), |g| (g.gs03.as_str(), g.gs02.as_str()));
        writer.segment(&OwnedSegment::simple(
            "GS",
            &[
                functional_group,
                &gs_id(gs02, "UMGATE"),
                &gs_id(gs03, "UNKNOWN"),
                &date,
                &time,
                &group_control,
                "X",
                guide,
            ],
        ));
        for (n, set) in sets[start..end].iter().enumerate() {
            for segment in (set.write)(&format!("{:04}", n + 1)) {
                writer.segment(&segment);
            }
        }
        writer.segment(&OwnedSegment::simple("GE", &[(end - start).to_string(), group_control]));
        groups += 1;
        start = end;
    }
    writer.segment(&OwnedSegment::simple("IEA", &[groups.to_string(), format!("{control:09}")]));
    Some(writer.into_bytes())
}
