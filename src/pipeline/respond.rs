//! What umgate answers to a new interchange: the TA1 and 999 of its envelope and groups, a 278
//! response to every accepted 278 request (after the UM engine decided it by its category: a new
//! case or an intake reject, or a cancellation, extension, revision or appeal applied to an earlier
//! certification, see `x217::categories`), a 278 inquiry response to every X215 inquiry, and a 271
//! to every 270.
//!
//! Why separate steps: deciding is asynchronous (it reads the store) and creates cases held in
//! memory; the control numbers the answers need are counted next and taken from the writer's
//! counters (see [`super::numbers`]); writing is then pure. Nothing is spent before the recording
//! transaction commits, so an interchange can be decided again after a failed one.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::PipelineError;
use super::batch::{BatchRepository, NewCases};
use super::numbers::{Counters, NumberSource, Tally};
use crate::ack::{ControlNumbers, Outbound, ack_999_interchange, ta1_interchange};
use crate::domain::rules::IntakeRejection;
use crate::domain::{Case, CaseService, Clock, UmPolicy};
use crate::mapping::tree::{InterchangeTrees, SetTree};
use crate::mapping::{x215, x217, x279};
use crate::policy::Policy;
use crate::storage::{Advance, NewOutput, Store, StoreError};

/// One answer interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `TA1`, `999`, `278` or `271`.
    pub kind: String,
    /// Its ISA13.
    pub control_number: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The answer as the store records it (its bytes moved, not copied).
    pub fn into_output(self) -> NewOutput {
        NewOutput { kind: self.kind, control_number: self.control_number, content: self.bytes }
    }

    /// A recorded answer back (its bytes moved).
    pub fn from_output(output: NewOutput) -> Answer {
        Answer { kind: output.kind, control_number: output.control_number, bytes: output.content }
    }
}

/// An answer with its ISA13 read back from its own ISA (fixed width: bytes 90..99).
pub fn answer(kind: &str, bytes: Vec<u8>) -> Answer {
    let control_number = bytes.get(90..99).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    Answer { kind: kind.to_owned(), control_number, bytes }
}

/// The time the UM engine runs on: the wall clock, or the fixed time of the test mode.
#[derive(Debug, Clone, Copy)]
pub enum PipelineClock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock for PipelineClock {
    fn now(&self) -> DateTime<Utc> {
        match self {
            PipelineClock::System => Utc::now(),
            PipelineClock::Fixed(at) => *at,
        }
    }
}

/// What became of one 278 request.
#[derive(Debug)]
enum Outcome {
    Case(Box<Case>),
    Rejected(IntakeRejection),
    Unmapped(x217::MappingError),
    FollowUp(x217::FollowUp),
}

/// The decisions about the sets of one interchange.
#[derive(Debug, Default)]
pub struct Decisions<'t> {
    requests: Vec<(&'t SetTree, Outcome)>,
    inquiries: Vec<(&'t SetTree, x215::InquiryAnswer)>,
    eligibility: Vec<(x279::InquirySet, x279::Answer)>,
}

impl Decisions<'_> {
    /// Cases the interchange concerns: those its requests created and those its inquiries found.
    pub fn case_statuses(&self) -> Vec<crate::domain::CaseStatus> {
        self.requests
            .iter()
            .filter_map(|(_, outcome)| match outcome {
                Outcome::Case(case) => Some(case.status),
                _ => None,
            })
            .collect()
    }

    /// The cases the requests created or changed and the inquiries found, in order.
    pub fn case_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .requests
            .iter()
            .filter_map(|(_, outcome)| match outcome {
                Outcome::Case(case) => Some(case.id.clone()),
                _ => None,
            })
            .collect();
        for (_, answer) in &self.inquiries {
            if let x215::InquiryAnswer::Found(cases) = answer {
                ids.extend(cases.iter().map(|case| case.id.clone()));
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Decides and writes the answers of new interchanges.
#[derive(Debug)]
pub struct Responder {
    service: CaseService<BatchRepository, PipelineClock>,
    policy: Arc<Policy>,
    outbound: Outbound,
}

impl Responder {
    pub fn new(store: Store, policy: Arc<Policy>, outbound: Outbound, clock: PipelineClock) -> Self {
        let rules: Arc<dyn UmPolicy> = policy.clone();
        Responder { service: CaseService::new(rules, BatchRepository::new(store), clock), policy, outbound }
    }

    pub fn store(&self) -> &Store {
        self.service.repository().store()
    }

    /// How the answers are addressed and dated.
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Runs every answerable set through the mapping and the UM engine. New cases are held until
    /// [`Responder::take_new_cases`].
    pub async fn decide<'t>(&self, trees: &'t InterchangeTrees) -> Result<Decisions<'t>, PipelineError> {
        let mut decisions = Decisions::default();
        let today = self.outbound.at.date();
        // The requests are read first, so that their members and cases are read in one go.
        let requests: Vec<(&SetTree, Result<crate::domain::CaseRequest, x217::MappingError>)> =
            trees.answerable().filter(|set| x217::is_request(set)).map(|set| (set, x217::read_request(set))).collect();
        let mut member_ids: Vec<String> = requests
            .iter()
            .filter_map(|(_, request)| request.as_ref().ok().map(|request| request.member.member_id.clone()))
            .collect();
        member_ids.sort();
        member_ids.dedup();
        if !member_ids.is_empty() {
            self.service.repository().read_ahead(&member_ids).await?;
        }
        for (set, request) in requests {
            let outcome = match request {
                Err(error) => Outcome::Unmapped(error),
                // By category: a new case, or a change to an earlier certification.
                Ok(request) => match x217::handle(&self.service, set, request).await? {
                    x217::Handled::Case(case) => Outcome::Case(case),
                    x217::Handled::Rejected(rejection) => Outcome::Rejected(rejection),
                    x217::Handled::FollowUp(follow_up) => Outcome::FollowUp(follow_up),
                },
            };
            decisions.requests.push((set, outcome));
        }
        for set in trees.answerable() {
            if x215::is_inquiry(set) {
                let answer = x215::answer_inquiry(&x215::read_inquiry(set), &self.service).await?;
                decisions.inquiries.push((set, answer));
            } else if set.guide == x279::GUIDE && set.transaction == "inquiry" {
                // A set the guide accepted but the 271 writer cannot read is left unanswered
                // (its 999 still tells the sender it was received).
                let Ok(inquiry) = x279::read_inquiry(set) else { continue };
                let ids = x279::member_ids(&inquiry);
                let roster = x279::load_roster(self.service.repository(), &ids).await?;
                let answer = x279::answer(&inquiry, &roster, &self.policy, today);
                decisions.eligibility.push((x279::InquirySet { group_index: set.group_index, inquiry }, answer));
            }
        }
        Ok(decisions)
    }

    /// How many control numbers [`Responder::write`] will take, without writing the replies
    /// themselves (the TA1 and 999 are small and written to count; each reply takes one
    /// interchange number and a group number per run of sets from one inbound group).
    pub fn need(&self, trees: &InterchangeTrees, decisions: &Decisions<'_>) -> Tally {
        let mut tally = Tally::default();
        let _ = ta1_interchange(&trees.report, &self.outbound, &mut tally);
        let _ = ack_999_interchange(&trees.report, &self.outbound, &mut tally);
        let replies = [
            decisions.requests.iter().map(|(set, _)| set.group_index).collect::<Vec<_>>(),
            decisions.inquiries.iter().map(|(set, _)| set.group_index).collect(),
            decisions.eligibility.iter().map(|(set, _)| set.group_index).collect(),
        ];
        for groups in replies.iter().filter(|groups| !groups.is_empty()) {
            tally.interchanges += 1;
            tally.groups += 1 + groups.windows(2).filter(|pair| pair[0] != pair[1]).count() as u32;
        }
        tally
    }

    /// The answer interchanges, in order: TA1, 999, 278 responses, X215 responses, 271s.
    pub fn write(
        &self,
        trees: &InterchangeTrees,
        decisions: &Decisions<'_>,
        numbers: &mut dyn ControlNumbers,
    ) -> Vec<Answer> {
        let outbound = &self.outbound;
        let mut answers = Vec::new();
        if let Some(bytes) = ta1_interchange(&trees.report, outbound, numbers) {
            answers.push(answer("TA1", bytes));
        }
        if let Some(bytes) = ack_999_interchange(&trees.report, outbound, numbers) {
            answers.push(answer("999", bytes));
        }
        let responses: Vec<x217::Answer<'_>> = decisions
            .requests
            .iter()
            .map(|(set, outcome)| x217::Answer {
                set,
                decision: match outcome {
                    Outcome::Case(case) => x217::Decision::Case(case),
                    Outcome::Rejected(rejection) => x217::Decision::Rejected(*rejection),
                    Outcome::Unmapped(error) => x217::Decision::Unmapped(error),
                    Outcome::FollowUp(follow_up) => x217::Decision::FollowUp(follow_up),
                },
            })
            .collect();
        if !responses.is_empty()
            && let Some(bytes) = x217::write_response_interchange(trees, &responses, outbound, numbers)
        {
            answers.push(answer("278", bytes));
        }
        if !decisions.inquiries.is_empty()
            && let Some(bytes) =
                x215::write_inquiry_response_interchange(trees, &decisions.inquiries, outbound, numbers)
        {
            answers.push(answer("278", bytes));
        }
        if !decisions.eligibility.is_empty()
            && let Some(bytes) = x279::write_interchange(trees, &decisions.eligibility, outbound, numbers)
        {
            answers.push(answer("271", bytes));
        }
        answers
    }

    /// The cases created since the last call (store records by [`NewCases::into_records`]).
    pub fn take_new_cases(&self) -> NewCases {
        self.service.repository().take_new_cases()
    }

    /// Forgets the cases created for an interchange that could not be recorded, and the numbers
    /// taken for it (the counters are read from the store again before the next use).
    pub fn discard_new_cases(&self) {
        let repository = self.service.repository();
        repository.discard();
        repository.forget_counters();
    }

    /// The recording of the cases taken first has committed (see [`BatchRepository::settle`]).
    pub fn settle_new_cases(&self) {
        self.service.repository().settle();
    }

    /// The gate a recording in flight holds (see [`BatchRepository::gate`]).
    pub fn recording_gate(&self) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.service.repository().gate()
    }

    /// Reads the store's sequences unless this responder holds them already.
    pub async fn load_numbers(&self) -> Result<(), StoreError> {
        self.service.repository().load_counters().await
    }

    /// Control numbers for answers that take `need` of them (see [`NumberSource::take`]).
    pub fn take_control_numbers(
        &self,
        numbers: &mut NumberSource,
        need: Tally,
    ) -> Result<Box<dyn ControlNumbers + Send>, StoreError> {
        self.service
            .repository()
            .with_counters(|counters| numbers.take(counters, need))
            .ok_or(StoreError::NotFound { what: "loaded sequences" })
    }

    /// The sequence advances that spend every number taken since the previous call, for the
    /// transaction that records them.
    pub fn number_advances(&self) -> Vec<Advance> {
        self.service.repository().with_counters(Counters::advances).unwrap_or_default()
    }
}
