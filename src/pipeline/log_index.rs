//! What an interchange carries, for the transaction log's search by type (`umgate log search
//! --type 278`, `GET /v1/log?type=278`): its functional groups and its transaction sets by ST01,
//! and `TA1` for an interchange of TA1 acknowledgments.
//!
//! Why here and read from the stored bytes: the store keeps interchanges as blobs and knows no
//! X12; this layer reads them with the X12 reader (each interchange's own delimiters) and hands
//! the store plain counts. Reading the bytes rather than the validation report lets one function
//! serve both the moment an interchange is logged ([`summarize_interchange`]) and the backfill of
//! the rows logged without a summary ([`summarize_pending`]: those logged before migration 0007).

use crate::storage::log_search::{InterchangeContents, SetCount};
use crate::storage::{Store, StoreError};
use crate::x12::{Item, SegmentReader};

/// A set identifier longer than this, or with other than letters and digits, is not one a sender
/// could mean (ST01 is three digits): it is logged as `invalid`, so the index stays small.
const MAX_SET_ID: usize = 6;

/// The summary of one interchange's bytes. Unreadable bytes carry nothing (zero groups, no sets).
pub fn contents_of(bytes: &[u8]) -> InterchangeContents {
    let mut contents = InterchangeContents::default();
    let mut reader = SegmentReader::new(bytes);
    let mut interchanges = 0;
    while let Ok(Some(item)) = reader.next_item() {
        let segment = match item {
            Item::Interchange { .. } | Item::BadInterchange { .. } => {
                interchanges += 1;
                // The stored content is one interchange; anything after a second ISA is not its own.
                if interchanges > 1 {
                    break;
                }
                continue;
            }
            Item::Segment(segment) => segment,
        };
        match segment.id() {
            b"GS" => contents.groups += 1,
            b"ST" => count(&mut contents.sets, set_id(segment.element(1))),
            b"TA1" => count(&mut contents.sets, "TA1".to_owned()),
            _ => {}
        }
    }
    contents
}

fn set_id(st01: &[u8]) -> String {
    let text = String::from_utf8_lossy(st01);
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_SET_ID || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "invalid".to_owned()
    } else {
        text.to_owned()
    }
}

fn count(sets: &mut Vec<SetCount>, set_id: String) {
    match sets.iter_mut().find(|set| set.set_id == set_id) {
        Some(set) => set.count += 1,
        None => sets.push(SetCount { set_id, count: 1 }),
    }
}

/// Records what a logged interchange carries (call once it is logged, with its bytes).
pub async fn summarize_interchange(store: &Store, interchange_id: i64, bytes: &[u8]) -> Result<(), StoreError> {
    store.record_interchange_contents(interchange_id, &contents_of(bytes)).await
}

/// Summarizes the interchanges logged without a summary, `batch` at a time, at most `max` in
/// all; returns how many it did. Safe to run in several instances at once (the same summary is
/// written twice at worst).
pub async fn summarize_pending(store: &Store, batch: i64, max: u64) -> Result<u64, StoreError> {
    let mut done = 0u64;
    while done < max {
        let left = i64::try_from(max - done).unwrap_or(i64::MAX);
        let ids = store.interchanges_to_summarize(batch.clamp(1, left)).await?;
        if ids.is_empty() {
            break;
        }
        for id in ids {
            // Read one at a time: an interchange may be a batch of many megabytes.
            if let Some(record) = store.get_interchange(id).await? {
                store.record_interchange_contents(id, &contents_of(&record.content)).await?;
            }
            done += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isa(control: &str) -> String {
        format!(
            "ISA*00*          *00*          *ZZ*SUBMITTER1     *ZZ*UMGATE         *261123*1200*^*00501*{control}*0*P*:~"
        )
    }

    #[test]
    fn sets_are_counted_by_identifier_in_order_of_first_appearance() {
        let text = format!(
            "{}GS*HI*S*R*20261123*1200*1*X*005010X217~ST*278*0001~SE*2*0001~ST*278*0002~SE*2*0002~GE*2*1~\
             GS*HS*S*R*20261123*1200*2*X*005010X279A1~ST*270*0003~SE*2*0003~GE*1*2~IEA*2*000000001~",
            isa("000000001")
        );
        let contents = contents_of(text.as_bytes());
        assert_eq!(contents.groups, 2);
        assert_eq!(
            contents.sets,
            vec![SetCount { set_id: "278".into(), count: 2 }, SetCount { set_id: "270".into(), count: 1 }]
        );
        assert_eq!(contents.set_total(), 3);
    }

    #[test]
    fn acknowledgments_and_odd_identifiers_stay_a_short_list() {
        let text = format!("{}TA1*000000007*261123*1200*A*000~IEA*0*000000002~", isa("000000002"));
        assert_eq!(contents_of(text.as_bytes()).sets, vec![SetCount { set_id: "TA1".into(), count: 1 }]);
        let odd = format!("{}GS*HI*S*R*1*1*1*X*1~ST*27 8!*1~SE*2*1~GE*1*1~IEA*1*000000003~", isa("000000003"));
        assert_eq!(contents_of(odd.as_bytes()).sets, vec![SetCount { set_id: "invalid".into(), count: 1 }]);
        assert_eq!(contents_of(b"not x12 at all"), InterchangeContents::default());
    }
}
