//! The response interchange: every 278 response to the requests of one inbound interchange,
//! addressed back to its sender (ISA and GS sender/receiver swapped), one functional group per
//! inbound group answered, numbered by the caller's `ControlNumbers`. The same writer produces
//! the later notification of a case decided after the first answer.

use super::response::{Decision, GUIDE_278, write_response};
use crate::ack::{ControlNumbers, Outbound};
use crate::mapping::tree::{InterchangeTrees, SetTree};
use crate::x12::envelope::{gs_id, reply_isa};
use crate::x12::{Delimiters, OwnedSegment, Writer};

/// A request set and what was decided about it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub set: &'a SetTree,
    pub decision: Decision<'a>,
}

/// The 278 response interchange for `answers` (sets of `trees`); `None` when there is nothing to
/// answer or the inbound header could not be read.
pub fn write_response_interchange(
    trees: &InterchangeTrees,
    answers: &[Answer<'_>],
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let header = trees.header()?;
    if answers.is_empty() {
        return None;
    }
    let mut groups: Vec<usize> = answers.iter().map(|a| a.set.group_index).collect();
    groups.dedup();
    let control = numbers.next_interchange();
    let mut writer = Writer::new(Delimiters::OUTBOUND, &outbound.line_break);
    writer.raw(&reply_isa(Some(header), &outbound.at, control));
    let (date, time) = (outbound.at.format("%Y%m%d").to_string(), outbound.at.format("%H%M").to_string());
    let mut written_groups = 0;
    for (position, group_index) in groups.iter().enumerate() {
        // Answers of one group are contiguous; a group seen again later is a new one.
        let in_group: Vec<&Answer<'_>> = answers
            .iter()
            .skip_while(|a| groups[..position].contains(&a.set.group_index) && a.set.group_index != *group_index)
            .take_while(|a| a.set.group_index == *group_index)
            .collect();
        let Some(group) = trees.report.groups.get(*group_index) else { continue };
        let group_control = numbers.next_group().to_string();
        writer.segment(&OwnedSegment::simple(
            "GS",
            &[
                "HI",
                &gs_id(&group.gs03, "UMGATE"),
                &gs_id(&group.gs02, "UNKNOWN"),
                &date,
                &time,
                &group_control,
                "X",
                GUIDE_278,
            ],
        ));
        for (n, answer) in in_group.iter().enumerate() {
            let st02 = format!("{:04}", n + 1);
            for segment in write_response(answer.set, &answer.decision, &st02, outbound.at) {
                writer.segment(&segment);
            }
        }
        writer.segment(&OwnedSegment::simple("GE", &[in_group.len().to_string(), group_control]));
        written_groups += 1;
    }
    writer.segment(&OwnedSegment::simple("IEA", &[written_groups.to_string(), format!("{control:09}")]));
    Some(writer.into_bytes())
}

/// A later 278 response for the submitter's mailbox: the case as it stands now (decided after a
/// pend), answering the original request `set` of the stored inbound interchange `trees`.
pub fn write_notification(
    trees: &InterchangeTrees,
    set: &SetTree,
    case: &crate::domain::Case,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    write_response_interchange(trees, &[Answer { set, decision: Decision::Case(case) }], outbound, numbers)
}
