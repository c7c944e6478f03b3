//! 270 → 271 (005010X279A1): eligibility inquiries read from validated 270 trees, answered from
//! the roster and the policy (active or inactive coverage on the day, the plan, and per program
//! whether prior authorization is required), and written back as 271s in a reply interchange.
//!
//! * [`inquiry`]: the 270 as an `Inquiry` (values as sent).
//! * [`eligibility`]: the decision, free of X12 (`Roster`, `answer`, `Reject`, `Coverage`).
//! * [`response`]: one 271 transaction set, with the why of its EB/EB11/MSG/AAA choices.
//!
//! The reply envelope is the shared one of `mapping::reply` (GS01 `HB`).
//!
//! The pipeline's use: `read_inquiries(&trees)`, fetch `member_ids` from the repository with
//! `load_roster` (async), then `write_interchange` with `answer` for each inquiry — or
//! `answer_interchange` to do the last two in one call with a roster at hand.

pub mod eligibility;
pub mod inquiry;
pub mod response;

use chrono::NaiveDate;

pub use eligibility::{
    Answer, Coverage, PersonAnswer, PriorAuthorization, ProgramAnswer, Reject, Roster, SubscriberAnswer, answer,
    load_roster, member_ids,
};
pub use inquiry::{Given, Inquiry, PersonInquiry, read_inquiry};
pub use response::write_response;

use crate::ack::{ControlNumbers, Outbound};
use crate::mapping::reply::{ReplySet, write_reply_interchange};
use crate::mapping::tree::InterchangeTrees;
use crate::policy::Policy;

/// The implementation guide of the 270 and the 271 (ST03, GS08).
pub const GUIDE: &str = "005010X279A1";
/// GS01 of a group of 271s.
pub const FUNCTIONAL_GROUP: &str = "HB";

/// Why a set cannot be read as a 270. Never carries member data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("not a 270 inquiry of {GUIDE}: guide {guide:?}, transaction {transaction:?}")]
    NotAnInquiry { guide: String, transaction: String },
    #[error("loop {0} is missing")]
    MissingLoop(&'static str),
}

/// A 270 of an interchange, with the index of its functional group in the interchange report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquirySet {
    pub group_index: usize,
    pub inquiry: Inquiry,
}

/// Every 270 of the interchange that is to be answered (interchange, group and set accepted),
/// in order. Sets of other guides are left out.
pub fn read_inquiries(trees: &InterchangeTrees) -> Result<Vec<InquirySet>, MappingError> {
    trees
        .answerable()
        .filter(|set| set.guide == GUIDE && set.transaction == "inquiry")
        .map(|set| Ok(InquirySet { group_index: set.group_index, inquiry: read_inquiry(set)? }))
        .collect()
}

/// The reply interchange with one 271 per answered 270, grouped as the 270s were (one HB group
/// per inbound group), in the shared reply envelope (`mapping::reply`). `None` when there is
/// nothing to answer or no readable ISA. For streaming, give `write_response` to
/// `reply::ReplyStream::set` per set instead (functional group `HB`, guide [`GUIDE`]).
pub fn write_interchange(
    trees: &InterchangeTrees,
    answered: &[(InquirySet, Answer)],
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let at = outbound.at;
    let sets: Vec<ReplySet<'_>> = answered
        .iter()
        .map(|(set, answer)| ReplySet {
            group_index: set.group_index,
            write: Box::new(move |st02: &str| write_response(&set.inquiry, answer, st02, at)),
        })
        .collect();
    write_reply_interchange(trees, &sets, FUNCTIONAL_GROUP, GUIDE, outbound, numbers)
}

/// Reads, answers and writes in one call: the 271 reply interchange for every 270 of `trees`.
/// `outbound.at`'s day stands for 270s that name no date.
pub fn answer_interchange(
    trees: &InterchangeTrees,
    roster: &dyn Roster,
    policy: &Policy,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Result<Option<Vec<u8>>, MappingError> {
    let today: NaiveDate = outbound.at.date();
    let answered: Vec<(InquirySet, Answer)> = read_inquiries(trees)?
        .into_iter()
        .map(|set| {
            let answer = answer(&set.inquiry, roster, policy, today);
            (set, answer)
        })
        .collect();
    Ok(write_interchange(trees, &answered, outbound, numbers))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ack::Counter;
    use crate::domain::MemberRecord;
    use crate::grammar::GuideSet;
    use crate::mapping::tree::read_trees;
    use crate::policy::LineOfBusiness;
    use crate::validation::{Ack, InterchangeReport, Observer, validate_stream};

    const TWO_SUBSCRIBERS: &str = "ISA*00*          *00*          *ZZ*CLINIC         *ZZ*UMGATE         *260301*0800*^*00501*000000043*0*P*:~\
GS*HS*CLINIC*UMGATE*20260301*0800*43*X*005010X279A1~\
ST*270*0001*005010X279A1~\
BHT*0022*13*REF-43*20260301*0800~\
HL*1**20*1~\
NM1*PR*2*UMGATE UM*****PI*UMGATE~\
HL*2*1*21*1~\
NM1*1P*2*SAMPLE CLINIC*****XX*1234567893~\
HL*3*2*22*0~\
NM1*IL*1*PERSON*FAKE****MI*K1~\
DMG*D8*19700101~\
EQ*30~\
HL*4*2*22*0~\
NM1*IL*1*NOBODY*FAKE****MI*K2~\
DMG*D8*19700101~\
EQ*30~\
SE*15*0001~\
GE*1*43~\
IEA*1*000000043~";

    struct Reports(Vec<InterchangeReport>);
    impl Observer for Reports {
        fn interchange_end(&mut self, report: InterchangeReport) {
            self.0.push(report);
        }
    }

    #[test]
    fn one_call_answers_every_subscriber_and_the_reply_validates() {
        let policy = Policy::load(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/umgate.toml")).unwrap();
        let born = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let member = MemberRecord {
            member_id: "K1".into(),
            first_name: "FAKE".into(),
            last_name: "PERSON".into(),
            birth_date: born,
            gender: None,
            plan: "healthspring-ma".into(),
            line_of_business: LineOfBusiness::Medicare,
            coverage_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            coverage_end: None,
        };
        let roster = BTreeMap::from([("K1".to_owned(), member)]);
        let guides = GuideSet::builtin().unwrap();
        let trees = read_trees(TWO_SUBSCRIBERS.as_bytes(), "t", guides).unwrap();
        let at = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let outbound = Outbound { at, line_break: Vec::new() };
        let reply =
            answer_interchange(&trees[0], &roster, &policy, &outbound, &mut Counter::starting_at(5)).unwrap().unwrap();
        let text = String::from_utf8(reply.clone()).unwrap();
        // No DTP*291: answered for the day of processing.
        assert!(text.contains("EB*1*IND*30*HN*") && text.contains("DTP*291*D8*20260302~"), "{text}");
        assert!(text.contains("NM1*IL*1*NOBODY*FAKE****MI*K2~AAA*Y**75*C~"), "{text}");
        assert!(text.contains("HL*4*2*22*0~"), "{text}");
        let mut reports = Reports(Vec::new());
        validate_stream(reply.as_slice(), "reply", guides, &mut reports).unwrap();
        let set = &reports.0[0].groups[0].sets[0];
        assert_eq!((set.transaction.as_str(), set.ack, set.errors.len()), ("response", Ack::Accepted, 0));
    }
}
