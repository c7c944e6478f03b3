//! The 278 response interchange to the requests of one inbound interchange, and the later
//! notification of a case decided after the first answer (same writer, the case as it stands).

use super::response::{Decision, GUIDE_278, write_response};
use crate::ack::{ControlNumbers, Outbound};
use crate::mapping::reply::{ReplySet, write_reply_interchange};
use crate::mapping::tree::{InterchangeTrees, SetTree};

/// A request set and what was decided about it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub set: &'a SetTree,
    pub decision: Decision<'a>,
}

/// The 278 response interchange for `answers` (sets of `trees`, in their order); `None` when
/// there is nothing to answer or the inbound header could not be read.
pub fn write_response_interchange(
    trees: &InterchangeTrees,
    answers: &[Answer<'_>],
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let at = outbound.at;
    let sets: Vec<ReplySet<'_>> = answers
        .iter()
        .map(|answer| ReplySet {
            group_index: answer.set.group_index,
            write: Box::new(move |st02: &str| write_response(answer.set, &answer.decision, st02, at)),
        })
        .collect();
    write_reply_interchange(trees, &sets, "HI", GUIDE_278, outbound, numbers)
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

/// The request set of a stored inbound interchange that a case came from, found by the event's
/// trace numbers (2000E TRN02 + TRN03): what `write_notification` answers.
pub fn find_request_set<'t>(trees: &'t InterchangeTrees, case: &crate::domain::Case) -> Option<&'t SetTree> {
    let traces = &case.request.trace_numbers;
    if traces.is_empty() {
        return None;
    }
    trees.answerable().filter(|set| super::is_request(set)).find(|set| {
        let event = super::RequestLoops::of(set).event;
        let sent: Vec<(&str, &str)> =
            event.map(|e| e.segments("TRN").map(|trn| (trn.element(2), trn.element(3))).collect()).unwrap_or_default();
        traces.iter().all(|t| sent.contains(&(t.value.as_str(), t.originator.as_str())))
    })
}
