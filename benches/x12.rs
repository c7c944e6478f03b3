//! X12 throughput on synthetic batches from `umgate gen 278` (10,000 and 100,000 transaction
//! sets, one interchange each): lexing alone, full implementation-guide validation, and, as a
//! peer measured in the same run on the same bytes, the `x12-types` crate parsing them.
//!
//! Run: `cargo bench --bench x12` (figures in BENCHMARKS.md).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use umgate::grammar::GuideSet;
use umgate::synth::{GenOptions, TransactionKind, generate};
use umgate::validation::{InterchangeReport, Observer, validate_stream};
use umgate::x12::{Item, SegmentReader};

fn batch(count: u64) -> Vec<u8> {
    let mut options = GenOptions::new(TransactionKind::Request278, count);
    // One interchange of one group: the peer parses one Transmission per call and does not
    // read a second GS in it, so this is the layout both can read (docs/decisions/0001).
    options.per_group = count;
    options.groups_per_interchange = 1;
    let mut out = Vec::new();
    generate(&options, &mut out).expect("generation works in memory");
    out
}

/// Lexing: every segment found and every element split.
fn lex(bytes: &[u8]) -> usize {
    let mut reader = SegmentReader::new(bytes);
    let mut elements = 0;
    while let Some(item) = reader.next_item().expect("synthetic input reads") {
        if let Item::Segment(segment) = item {
            elements += segment.elements().count();
        }
    }
    elements
}

struct CountSets(usize);

impl Observer for CountSets {
    fn interchange_end(&mut self, report: InterchangeReport) {
        self.0 += report.groups.iter().map(|g| g.accepted_sets()).sum::<usize>();
    }
}

fn validate(bytes: &[u8], guides: &GuideSet) -> usize {
    let mut count = CountSets(0);
    validate_stream(bytes, "bench", guides, &mut count).expect("synthetic input reads");
    count.0
}

fn benches(c: &mut Criterion) {
    let guides = GuideSet::builtin().expect("guides compile");
    for count in [10_000u64, 100_000] {
        let bytes = batch(count);
        assert_eq!(validate(&bytes, guides), count as usize, "every synthetic set is valid");
        let mut group = c.benchmark_group(format!("x12-{count}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("umgate-lex", count), &bytes, |b, bytes| {
            b.iter(|| lex(black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("umgate-validate", count), &bytes, |b, bytes| {
            b.iter(|| validate(black_box(bytes), guides))
        });
        let text = std::str::from_utf8(&bytes).expect("synthetic output is ASCII");
        let peer_parses =
            <x12_types::v005010::Transmission<x12_types::v005010::_278> as x12_types::util::Parser<_, _, _>>::parse(
                text,
            )
            .is_ok();
        if peer_parses {
            group.bench_with_input(BenchmarkId::new("x12-types-parse", count), text, |b, text| {
                b.iter(|| {
                    <x12_types::v005010::Transmission<x12_types::v005010::_278> as x12_types::util::Parser<_, _, _>>::parse(black_box(text))
                        .map(|(_, t)| t.functional_group.len())
                })
            });
        } else {
            eprintln!("x12-types cannot parse the synthetic batch; no peer figure for {count}");
        }
        group.finish();
    }
}

criterion_group!(x12, benches);
criterion_main!(x12);
