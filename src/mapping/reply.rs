//! The envelope of business answers (278 responses, X215 responses, 271s): one interchange per
//! inbound interchange, addressed back to its sender (ISA and GS sender/receiver swapped), one
//! functional group per run of answered sets of one inbound group, sets numbered 0001.. within
//! each group, control numbers from the caller's `ControlNumbers`. `ReplyStream` writes as sets
//! come (flat memory for interchanges of any size); `write_reply_interchange` is the same for a
//! list.

use std::io::Write;

use crate::ack::{ControlNumbers, Outbound};
use crate::mapping::tree::InterchangeTrees;
use crate::x12::envelope::{gs_id, reply_isa_with};
use crate::x12::{Delimiters, IsaHeader, OwnedSegment, Writer};

/// Writes one answer set (ST to SE) given its ST02.
pub type WriteSet<'a> = Box<dyn Fn(&str) -> Vec<OwnedSegment> + 'a>;

/// One answer set to write: the inbound group it answers and how to write it.
pub struct ReplySet<'a> {
    pub group_index: usize,
    pub write: WriteSet<'a>,
}

impl std::fmt::Debug for ReplySet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplySet").field("group_index", &self.group_index).finish()
    }
}

#[derive(Debug)]
struct OpenGroup {
    index: usize,
    control: String,
    sets: usize,
}

/// An answer interchange written set by set. Nothing is written until the first set, so an
/// interchange with nothing to answer gets no reply (`finish` returns `None`).
#[derive(Debug)]
pub struct ReplyStream<W: Write> {
    out: W,
    header: IsaHeader,
    functional_group: String,
    guide: String,
    outbound: Outbound,
    delimiters: Delimiters,
    control: Option<u32>,
    group: Option<OpenGroup>,
    groups: usize,
}

impl<W: Write> ReplyStream<W> {
    /// A reply to the interchange of `header`, with groups `functional_group` (GS01, e.g. `HI`)
    /// of guide `guide` (GS08).
    pub fn new(out: W, header: IsaHeader, functional_group: &str, guide: &str, outbound: Outbound) -> Self {
        ReplyStream {
            out,
            header,
            functional_group: functional_group.to_owned(),
            guide: guide.to_owned(),
            outbound,
            delimiters: Delimiters::OUTBOUND,
            control: None,
            group: None,
            groups: 0,
        }
    }

    /// Writes with `delimiters` instead of `Delimiters::OUTBOUND` (the segments handed to `set`
    /// must then hold no value containing one of them).
    pub fn with_delimiters(mut self, delimiters: Delimiters) -> Self {
        self.delimiters = delimiters;
        self
    }

    fn writer(&self) -> Writer {
        Writer::new(self.delimiters, &self.outbound.line_break)
    }

    fn close_group(&mut self) -> std::io::Result<()> {
        if let Some(group) = self.group.take() {
            let mut writer = self.writer();
            writer.segment(&OwnedSegment::simple("GE", &[group.sets.to_string(), group.control]));
            self.out.write_all(&writer.into_bytes())?;
        }
        Ok(())
    }

    /// Writes the answer to a set of inbound group `group_index` (whose GS02/GS03 were
    /// `inbound_gs02`/`inbound_gs03`), opening the interchange and group as needed.
    pub fn set(
        &mut self,
        group_index: usize,
        inbound_gs02: &str,
        inbound_gs03: &str,
        write: impl FnOnce(&str) -> Vec<OwnedSegment>,
        numbers: &mut dyn ControlNumbers,
    ) -> std::io::Result<()> {
        let mut writer = self.writer();
        if self.control.is_none() {
            let control = numbers.next_interchange();
            writer.raw(&reply_isa_with(Some(&self.header), &self.outbound.at, control, &self.delimiters));
            self.control = Some(control);
        }
        if self.group.as_ref().is_none_or(|g| g.index != group_index) {
            let pending = writer.into_bytes();
            self.out.write_all(&pending)?;
            self.close_group()?;
            writer = self.writer();
            let control = numbers.next_group().to_string();
            let at = &self.outbound.at;
            writer.segment(&OwnedSegment::simple(
                "GS",
                &[
                    self.functional_group.as_str(),
                    &gs_id(inbound_gs03, "UMGATE"),
                    &gs_id(inbound_gs02, "UNKNOWN"),
                    &at.format("%Y%m%d").to_string(),
                    &at.format("%H%M").to_string(),
                    &control,
                    "X",
                    &self.guide,
                ],
            ));
            self.group = Some(OpenGroup { index: group_index, control, sets: 0 });
            self.groups += 1;
        }
        if let Some(group) = self.group.as_mut() {
            group.sets += 1;
            for segment in write(&format!("{:04}", group.sets)) {
                writer.segment(&segment);
            }
        }
        self.out.write_all(&writer.into_bytes())
    }

    /// Closes the group and the interchange; `None` when no set was written.
    pub fn finish(mut self) -> std::io::Result<Option<W>> {
        let Some(control) = self.control else { return Ok(None) };
        self.close_group()?;
        let mut writer = self.writer();
        writer.segment(&OwnedSegment::simple("IEA", &[self.groups.to_string(), format!("{control:09}")]));
        self.out.write_all(&writer.into_bytes())?;
        Ok(Some(self.out))
    }
}

/// The reply interchange (GS01 `functional_group`, GS08 `guide`) to `sets` of `trees`; `None`
/// when there is nothing to answer or the inbound header could not be read.
pub fn write_reply_interchange(
    trees: &InterchangeTrees,
    sets: &[ReplySet<'_>],
    functional_group: &str,
    guide: &str,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    write_reply_interchange_with(trees, sets, functional_group, guide, outbound, numbers, Delimiters::OUTBOUND)
}

/// `write_reply_interchange` with other delimiters than `Delimiters::OUTBOUND`.
pub fn write_reply_interchange_with(
    trees: &InterchangeTrees,
    sets: &[ReplySet<'_>],
    functional_group: &str,
    guide: &str,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
    delimiters: Delimiters,
) -> Option<Vec<u8>> {
    let header = trees.header()?.clone();
    let mut stream =
        ReplyStream::new(Vec::new(), header, functional_group, guide, outbound.clone()).with_delimiters(delimiters);
    for set in sets {
        let group = trees.report.groups.get(set.group_index);
        let (gs02, gs03) = group.map_or(("", ""), |g| (g.gs02.as_str(), g.gs03.as_str()));
        // Writing to a Vec cannot fail.
        stream.set(set.group_index, gs02, gs03, |st02| (set.write)(st02), numbers).ok()?;
    }
    stream.finish().ok().flatten()
}
