//! Table-driven malformed input: each row breaks one thing in a valid 278 request and asserts the
//! exact TA1 / AK9 / IK5 / IK3 / IK4 codes. None may panic.
//!
//! Positions in the base set: ST 1, BHT 2, HL 3, NM1*X3 4, HL 5, NM1*1P 6, HL 7, NM1*IL 8, DMG 9,
//! HL 10, TRN 11, UM 12, DTP 13, HI 14, NM1*SJ 15, HL 16, TRN 17, UM 18, DTP 19, SV1 20, SE 21.

mod common;

use umgate::validation::InterchangeReport;

fn base() -> String {
    std::fs::read_to_string(common::samples_dir().join("x12/278-request-medical-oncology.x12")).expect("sample reads")
}

/// Replaces one exact piece of text (which must occur).
fn sub(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the base");
    text.replacen(from, to, 1)
}

/// Sets SE01 to the real count after segments were added or removed.
fn recount(text: &str) -> String {
    let start = text.find("ST*").expect("ST");
    let end = text.find("SE*").expect("SE");
    let count = text[start..end].matches('~').count() + 1;
    let se_end = text[end..].find('~').expect("SE terminator") + end;
    let se = &text[end..se_end];
    let control = se.rsplit('*').next().expect("SE02");
    format!("{}SE*{count}*{control}{}", &text[..end], &text[se_end..])
}

/// `TA1 ..` / `G..` / `S..` as in the corpus test, then the set's errors as
/// `SEG@position:IK3[/element[-component]:IK4]`.
fn describe(reports: &[InterchangeReport]) -> String {
    let mut parts = Vec::new();
    for r in reports {
        parts.push(format!("TA1 {}", r.ta1.map_or("-".to_owned(), |t| format!("{}{}", t.ack.code(), t.note.code()))));
        for g in &r.groups {
            parts.push(format!(
                "G{}[{}]",
                g.ack.code(),
                g.codes.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
            ));
            for set in &g.sets {
                parts.push(format!(
                    "S{}[{}]",
                    set.ack.code(),
                    set.codes.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
                ));
                for e in &set.errors {
                    if e.elements.is_empty() {
                        parts.push(format!("{}@{}:{}", e.segment_id, e.position, e.code.code()));
                    }
                    for el in &e.elements {
                        let component = el.component.map(|c| format!("-{c}")).unwrap_or_default();
                        parts.push(format!(
                            "{}@{}:{}/{}{}:{}",
                            e.segment_id,
                            e.position,
                            e.code.code(),
                            el.position,
                            component,
                            el.code.code()
                        ));
                    }
                }
            }
        }
    }
    parts.join(" ")
}

type Mutation = fn(&str) -> String;

const ISA_OK: &str =
    "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*1*P*:~";

fn isa(with: &str) -> impl Fn(&str) -> String + '_ {
    move |text: &str| sub(text, ISA_OK, with)
}

const CASES: &[(&str, Mutation, &str)] = &[
    ("the base is valid", |t| t.to_owned(), "TA1 A000 GA[] SA[]"),
    ("no TA1 when ISA14 is 0", |t| sub(t, "*000000101*1*P", "*000000101*0*P"), "TA1 - GA[] SA[]"),
    // --- interchange envelope: TA1 note codes
    ("IEA02 differs from ISA13", |t| sub(t, "IEA*1*000000101", "IEA*1*000000102"), "TA1 R001 GA[] SA[]"),
    ("IEA01 miscounts the groups", |t| sub(t, "IEA*1*", "IEA*2*"), "TA1 R021 GA[] SA[]"),
    ("the file ends before IEA", |t| t[..t.find("IEA").expect("IEA")].to_owned(), "TA1 R023 GA[] SA[]"),
    ("the file ends inside the ISA", |t| t[..60].to_owned(), "TA1 R023"),
    (
        "ISA12 version 00401",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*U*00401*000000101*1*P*:~",
            )(t)
        },
        "TA1 R003",
    ),
    (
        "ISA16 equals ISA11",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*1*P*^~",
            )(t)
        },
        "TA1 R027",
    ),
    ("element separator is a letter", |t| t.replacen("ISA*", "ISAX", 1), "TA1 R026"),
    (
        "ISA01 authorization qualifier",
        |t| {
            isa(
                "ISA*99*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*1*P*:~",
            )(t)
        },
        "TA1 R010",
    ),
    (
        "ISA05 sender qualifier",
        |t| {
            isa(
                "ISA*00*          *00*          *9Q*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*1*P*:~",
            )(t)
        },
        "TA1 R005",
    ),
    (
        "ISA08 receiver too short",
        |t| {
            isa("ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE    *260115*0930*^*00501*000000101*1*P*:~")(
                t,
            )
        },
        "TA1 R008",
    ),
    (
        "ISA09 not a date",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *261315*0930*^*00501*000000101*1*P*:~",
            )(t)
        },
        "TA1 R014",
    ),
    (
        "ISA10 not a time",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*2561*^*00501*000000101*1*P*:~",
            )(t)
        },
        "TA1 R015",
    ),
    (
        "ISA13 not numeric",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*00000010A*1*P*:~",
            )(t)
        },
        "TA1 R018",
    ),
    (
        "ISA14 not 0 or 1",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*2*P*:~",
            )(t)
        },
        "TA1 R019",
    ),
    (
        "ISA15 not P or T",
        |t| {
            isa(
                "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260115*0930*^*00501*000000101*1*X*:~",
            )(t)
        },
        "TA1 R020",
    ),
    ("a stray segment between ISA and GS", |t| sub(t, "GS*HI", "NM1*X3*2*STRAY~\nGS*HI"), "TA1 R024 GA[] SA[]"),
    ("GS05 is not a time", |t| sub(t, "*20260115*0930*101*X", "*20260115*0997*101*X"), "TA1 R024 GA[] SA[]"),
    // --- functional group: AK9
    ("GE02 differs from GS06", |t| sub(t, "GE*1*101", "GE*1*102"), "TA1 A000 GR[4] SA[]"),
    ("GE01 miscounts the sets", |t| sub(t, "GE*1*101", "GE*2*101"), "TA1 A000 GR[5] SA[]"),
    ("GE is missing", |t| sub(t, "GE*1*101~\n", ""), "TA1 A000 GR[3] SA[]"),
    (
        "GS08 names no known guide and ST03 is absent",
        |t| sub(&sub(t, "*X*005010X217~", "*X*005010X999~"), "ST*278*0001*005010X217", "ST*278*0001"),
        "TA1 A000 GR[2] SR[I6]",
    ),
    (
        "one good and one bad set: partially accepted",
        |t| {
            let start = t.find("ST*").expect("ST");
            let end = t.find("GE*").expect("GE");
            let second = t[start..end].replace("*0001", "*0002").replace("DMG*D8*19700101", "DMG*D8*19701301");
            sub(&format!("{}{}{}", &t[..end], second, &t[end..]), "GE*1*", "GE*2*")
        },
        "TA1 A000 GP[] SA[] SR[5] DMG@9:8/2:8",
    ),
    // --- transaction set envelope: IK5
    ("SE01 miscounts", |t| sub(t, "SE*21*", "SE*20*"), "TA1 A000 GR[] SR[4]"),
    ("SE02 differs from ST02", |t| sub(t, "SE*21*0001", "SE*21*0002"), "TA1 A000 GR[] SR[3]"),
    ("SE is missing", |t| sub(t, "SE*21*0001~\n", ""), "TA1 A000 GR[] SR[2]"),
    (
        "ST02 is repeated in the group",
        |t| {
            let start = t.find("ST*").expect("ST");
            let end = t.find("GE*").expect("GE");
            sub(&format!("{}{}{}", &t[..end], &t[start..end], &t[end..]), "GE*1*", "GE*2*")
        },
        "TA1 A000 GP[] SA[] SR[23]",
    ),
    ("ST01 not in the guide", |t| sub(t, "ST*278*0001*005010X217", "ST*837*0001*005010X217"), "TA1 A000 GR[] SR[1]"),
    (
        "ST03 names an unknown guide",
        |t| sub(t, "ST*278*0001*005010X217", "ST*278*0001*005010X999"),
        "TA1 A000 GR[] SR[I6]",
    ),
    (
        "ST02 too short",
        |t| sub(&sub(t, "ST*278*0001*", "ST*278*01*"), "SE*21*0001", "SE*21*01"),
        "TA1 A000 GR[] SR[5,7] ST@1:8/2:4 SE@21:8/2:4",
    ),
    ("GS01 is not the group of a 278", |t| sub(t, "GS*HI*", "GS*HS*"), "TA1 A000 GR[] SR[1]"),
    // --- segments: IK3
    (
        "a segment unknown to the set",
        |t| recount(&sub(t, "DMG*D8*19700101*F~", "DMG*D8*19700101*F~\nZZZ*1~")),
        "TA1 A000 GR[] SR[5] ZZZ@10:6",
    ),
    (
        "an unrecognizable segment id",
        |t| recount(&sub(t, "DMG*D8*19700101*F~", "DMG*D8*19700101*F~\nn@1*1~")),
        "TA1 A000 GR[] SR[5] n@1@10:1",
    ),
    (
        "a segment of another loop",
        |t| recount(&sub(t, "DTP*AAH*D8*20260201~", "DTP*AAH*D8*20260201~\nDMG*D8*19700101*F~")),
        "TA1 A000 GR[] SR[5] DMG@14:2",
    ),
    (
        "segments out of order",
        |t| {
            sub(
                t,
                "UM*HS*I*1*11:B~\nDTP*AAH*D8*20260201~\nHI*ABK:C50911~",
                "HI*ABK:C50911~\nUM*HS*I*1*11:B~\nDTP*AAH*D8*20260201~",
            )
        },
        "TA1 A000 GR[] SR[5] UM@12:3 UM@13:7 DTP@14:7",
    ),
    (
        "a required segment is missing",
        |t| recount(&sub(t, "NM1*IL*1*SAMPLE*JANE****MI*M000000001~\n", "")),
        "TA1 A000 GR[] SR[5] DMG@8:2 NM1@9:3",
    ),
    (
        "a required loop is missing",
        |t| recount(&sub(t, "NM1*X3*2*UMGATE UTILIZATION MANAGEMENT*****PI*UMGATE01~\n", "")),
        "TA1 A000 GR[] SR[5] NM1@4:3",
    ),
    (
        "a segment over its maximum use",
        |t| recount(&sub(t, "DMG*D8*19700101*F~", "DMG*D8*19700101*F~\nDMG*D8*19700101*F~")),
        "TA1 A000 GR[] SR[5] DMG@10:5",
    ),
    (
        "a loop over its maximum repeat",
        |t| {
            recount(&sub(
                t,
                "NM1*X3*2*UMGATE UTILIZATION MANAGEMENT*****PI*UMGATE01~",
                "NM1*X3*2*UMGATE UTILIZATION MANAGEMENT*****PI*UMGATE01~\nNM1*X3*2*SECOND UMO*****PI*UMGATE02~",
            ))
        },
        "TA1 A000 GR[] SR[5] NM1@5:4",
    ),
    // --- elements: IK4
    ("a required element is missing", |t| sub(t, "BHT*0007*13*", "BHT**13*"), "TA1 A000 GR[] SR[5] BHT@2:8/1:1"),
    (
        "an element too long",
        |t| sub(t, "TRN*1*TRACE0001*", &format!("TRN*1*{}*", "T".repeat(51))),
        "TA1 A000 GR[] SR[5] TRN@11:8/2:5",
    ),
    (
        "an element too short",
        |t| sub(t, "NM1*1P*1*WELBY*MARCUS****XX*1234567893", "NM1*1P*1*WELBY*MARCUS****XX*1"),
        "TA1 A000 GR[] SR[5] NM1@6:8/9:4",
    ),
    (
        "a bad code value",
        |t| sub(t, "UM*HS*I*1*11:B~\nDTP*AAH", "UM*ZZ*I*1*11:B~\nDTP*AAH"),
        "TA1 A000 GR[] SR[5] UM@12:8/1:7",
    ),
    ("a bad date", |t| sub(t, "DMG*D8*19700101", "DMG*D8*19701301"), "TA1 A000 GR[] SR[5] DMG@9:8/2:8"),
    ("a bad time", |t| sub(t, "*20260115*0930~", "*20260115*2561~"), "TA1 A000 GR[] SR[5] BHT@2:8/5:9"),
    ("a bad date range", |t| sub(t, "DTP*AAH*D8*20260201", "DTP*AAH*RD8*20260201"), "TA1 A000 GR[] SR[5] DTP@13:8/3:8"),
    (
        "an invalid character in a number",
        |t| sub(t, "SV1*HC:J9267*1500*", "SV1*HC:J9267*15X0*"),
        "TA1 A000 GR[] SR[5] SV1@20:8/2:6",
    ),
    ("too many elements", |t| sub(t, "HL*1**20*1~", "HL*1**20*1*X~"), "TA1 A000 GR[] SR[5] HL@3:8/5:3"),
    ("a not-used element present", |t| sub(t, "HL*1**20*1~", "HL*1*9*20*1~"), "TA1 A000 GR[] SR[5] HL@3:8/2:I10"),
    // NM109 is required in this usage, so its absence is IK4 1 before the P0809 pairing rule.
    (
        "an identifier qualifier without its identifier",
        |t| sub(t, "NM1*IL*1*SAMPLE*JANE****MI*M000000001", "NM1*IL*1*SAMPLE*JANE****MI"),
        "TA1 A000 GR[] SR[5] NM1@8:8/9:1",
    ),
    (
        "a paired element without its pair (P0809)",
        |t| sub(t, "NM1*SJ*1*WELBY*MARCUS****XX*1234567893", "NM1*SJ*1*WELBY*MARCUS****XX"),
        "TA1 A000 GR[] SR[5] NM1@15:8/9:2",
    ),
    (
        "too many components",
        |t| sub(t, "UM*HS*I*1*11:B~\nDTP*AAH", "UM*HS*I*1*11:B:1:X:Y~\nDTP*AAH"),
        "TA1 A000 GR[] SR[5] UM@12:8/4:13",
    ),
    (
        "a repetition in a non-repeating element",
        |t| sub(t, "BHT*0007*13*REQ20260115001", "BHT*0007*13*REQ2026^0115001"),
        "TA1 A000 GR[] SR[5] BHT@2:8/3:12",
    ),
    ("a required component is missing", |t| sub(t, "HI*ABK:C50911", "HI*ABK"), "TA1 A000 GR[] SR[5] HI@14:8/1-2:1"),
    // --- the HL hierarchy
    ("HL parent wrong", |t| sub(t, "HL*3*2*22*1", "HL*3*1*22*1"), "TA1 A000 GR[] SR[5] HL@7:8/2:7"),
    ("HL01 not sequential", |t| sub(t, "HL*5*4*SS*0", "HL*7*4*SS*0"), "TA1 A000 GR[] SR[5] HL@16:8/1:7"),
    ("HL04 says no child but one follows", |t| sub(t, "HL*4*3*EV*1", "HL*4*3*EV*0"), "TA1 A000 GR[] SR[5] HL@10:8/4:7"),
    (
        "HL03 names a level the guide does not have here",
        |t| sub(t, "HL*5*4*SS*0", "HL*5*4*19*0"),
        "TA1 A000 GR[] SR[5] HL@16:8/3:7",
    ),
];

#[test]
fn every_fault_gives_its_exact_codes() {
    let base = base();
    let mut failures = Vec::new();
    for (name, mutate, want) in CASES {
        let input = mutate(&base);
        let result = std::panic::catch_unwind(|| common::validate_bytes(input.as_bytes()));
        match result {
            Ok(reports) => {
                let got = describe(&reports);
                if got != *want {
                    failures.push(format!("{name}:\n   want {want}\n   got  {got}"));
                }
            }
            Err(_) => failures.push(format!("{name}: PANICKED")),
        }
    }
    assert!(CASES.len() > 40, "the suite has {} faults", CASES.len());
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}
