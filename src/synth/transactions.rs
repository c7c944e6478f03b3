//! The transaction sets themselves, ST to SE: a 278 request for review (005010X217, BHT02 13)
//! or a 270 eligibility inquiry (005010X279A1). Transaction `n` is a function of (seed, n) alone,
//! so regrouping the same sets into other groups and interchanges does not change them.

use super::codes::{
    ADMISSIONS, ALL_DRUGS, CANCER_TYPES, CHEMOTHERAPY_ENCOUNTER, Drug, LATERALITY, PAIN_PROCEDURES, Program,
    RADIATION_DELIVERY, RADIATION_ENCOUNTER, RADIATION_MANAGEMENT, RADIATION_PLANNING, RADIATION_SITES, Sexes,
    THERAPY_DISCIPLINES,
};
use super::names::FEMALE_FIRST_NAMES;
use super::people::{BaseDate, Gender, Member, PROVIDERS_PER_POOL, Provider, domain};
use super::rng::SplitMix64;
use super::segments::{SegmentBuffer, Ymd};

/// Percent of 278 requests that are inpatient or emergency admissions (UM01 AR).
const ADMISSION_PERCENT: u64 = 5;
/// Percent of outpatient requests for a program the member's plan does not manage (HCR NA later).
const OFF_PLAN_PERCENT: u64 = 10;
/// Percent of therapy and pain requests sent as specialty-care referrals (UM01 SC).
const REFERRAL_PERCENT: u64 = 10;
/// Percent of oncology requests with a drug set that matches no known regimen.
const CUSTOM_REGIMEN_PERCENT: u64 = 8;

/// What every transaction of one run shares.
#[derive(Debug)]
pub struct Context {
    pub seed: u64,
    pub base: BaseDate,
    pub member_pool: u64,
}

/// One requested service line (2000F).
#[derive(Debug)]
struct Line {
    /// SV101-1 of an SV1 line (empty for SV2).
    qualifier: &'static str,
    /// SV101-2, or SV201 (revenue code) of an institutional line.
    code: &'static str,
    modifier: Option<&'static str>,
    quantity: u64,
    charge: u64,
    /// An SV2 room-and-board line of an admission.
    institutional: bool,
}

/// The patient event (2000E) and its service lines, before writing.
#[derive(Debug)]
struct Request {
    program: Program,
    category: &'static str,
    service_type: &'static str,
    facility: (&'static str, &'static str),
    level_of_service: Option<&'static str>,
    diagnoses: [Option<&'static str>; 3],
    from: Ymd,
    to: Ymd,
    delivery: Option<(&'static str, u64)>,
    admission_type: Option<(&'static str, &'static str)>,
    taxonomy: &'static str,
    lines: Vec<Line>,
}

/// Writes 278 request number `number` (1-based across the run); ST02 is that number.
pub fn write_278(out: &mut SegmentBuffer, context: &Context, number: u64) {
    let seed = context.seed;
    let base = &context.base;
    let mut rng = SplitMix64::for_item(seed, domain::TRANSACTION, number);
    let member = Member::of(seed, rng.below(context.member_pool), base);
    let request = plan_request(&mut rng, &member, base);
    let requester = Provider::of(seed, request.program, rng.below(PROVIDERS_PER_POOL));
    let rendering = if rng.percent(70) {
        requester.clone()
    } else {
        Provider::of(seed, request.program, rng.below(PROVIDERS_PER_POOL))
    };

    out.reset_count();
    out.start("ST").el("278").el("").padded(number, 4).el("005010X217").end();
    out.start("BHT")
        .el("0007")
        .el("13")
        .el("S")
        .digits(seed)
        .raw("N")
        .digits(number)
        .date(base.ymd)
        .el("")
        .padded(u64::from(base.time), 4)
        .end();
    out.start("HL").el("1").skip(1).el("20").el("1").end();
    out.start("NM1").el("X3").el("2").el(member.plan.name).skip(4).el("PI").el(member.plan.payer_id).end();
    out.start("HL").el("2").el("1").el("21").el("1").end();
    if request.program == Program::Admission {
        out.start("NM1").el("FA").el("2").el(requester.organisation.0).raw(" ").raw(requester.organisation.1);
        out.skip(4).el("XX").el(requester.npi()).end();
    } else {
        write_provider_name(out, "1P", &requester);
    }
    let address = &requester.address;
    out.start("N3").num(address.number).raw(" ").raw(address.street).raw(" ").raw(address.kind).end();
    out.start("N4").el(address.city).el(address.state).el(address.zip_prefix).padded(address.zip_suffix, 2).end();
    out.start("PER").el("IC").el(rng.word(FEMALE_FIRST_NAMES)).el("TE").el("");
    out.raw(address.area_code).raw("555").padded(requester.phone, 4).end();
    out.start("HL").el("3").el("2").el("22").el("1").end();
    out.start("NM1")
        .el("IL")
        .el("1")
        .el(member.last_name)
        .el(member.first_name)
        .skip(3)
        .el("MI")
        .el("M")
        .padded(member.number, 9)
        .end();
    out.start("DMG").el("D8").date(member.birth_date).el(member.gender.code()).end();
    let has_lines = !request.lines.is_empty();
    out.start("HL").el("4").el("3").el("EV").el(if has_lines { "1" } else { "0" }).end();
    out.start("TRN").el("1").el("S").digits(seed).raw("N").digits(number).el(requester.originator()).end();
    out.start("UM")
        .el(request.category)
        .el("I")
        .el(request.service_type)
        .el(request.facility.0)
        .comp(request.facility.1);
    if let Some(level) = request.level_of_service {
        out.skip(1).el(level);
    }
    out.end();
    if request.program == Program::Admission {
        out.start("DTP").el("435").el("D8").date(request.from).end();
    } else {
        out.start("DTP").el("AAH").el("RD8").date_range(request.from, request.to).end();
    }
    out.start("HI");
    for (position, diagnosis) in request.diagnoses.iter().flatten().enumerate() {
        out.el(if position == 0 { "ABK" } else { "ABF" }).comp(diagnosis);
    }
    out.end();
    if let Some((qualifier, quantity)) = request.delivery {
        out.start("HSD").el(qualifier).num(quantity).end();
    }
    if let Some((admission_type, source)) = request.admission_type {
        out.start("CL1").el(admission_type).el(source).end();
        // 2010EA: the facility the patient is admitted to.
        out.start("NM1").el("FA").el("2").el(requester.organisation.0).raw(" ").raw(requester.organisation.1);
        out.skip(4).el("XX").el(requester.npi()).end();
    }
    for (index, line) in request.lines.iter().enumerate() {
        let line_number = index as u64 + 1;
        out.start("HL").num(4 + line_number).el("4").el("SS").el("0").end();
        out.start("TRN").el("1").el("S").digits(seed).raw("N").digits(number).raw("L").digits(line_number);
        out.el(requester.originator()).end();
        if line.institutional {
            out.start("DTP").el("472").el("RD8").date_range(request.from, request.to).end();
            out.start("SV2").el(line.code).skip(1).num(line.charge).el("DA").num(line.quantity).end();
            continue;
        }
        out.start("UM").el(if request.category == "SC" { "SC" } else { "HS" }).el("I").el(request.service_type).end();
        out.start("DTP").el("472").el("RD8").date_range(request.from, request.to).end();
        out.start("SV1").el(line.qualifier).comp(line.code);
        if let Some(modifier) = line.modifier {
            out.comp(modifier);
        }
        out.num(line.charge).el("UN").num(line.quantity).skip(2).el("1").end();
        // 2010FA: the rendering provider.
        write_provider_name(out, "SJ", &rendering);
        out.start("PRV").el("PE").el("PXC").el(request.taxonomy).end();
    }
    let segments = u64::from(out.count()) + 1;
    out.start("SE").num(segments).el("").padded(number, 4).end();
}

/// Writes 270 inquiry number `number` (1-based across the run); ST02 is that number.
pub fn write_270(out: &mut SegmentBuffer, context: &Context, number: u64) {
    let seed = context.seed;
    let base = &context.base;
    let mut rng = SplitMix64::for_item(seed, domain::TRANSACTION, number);
    let member = Member::of(seed, rng.below(context.member_pool), base);
    let program = *rng.pick(&Program::OUTPATIENT);
    let provider = Provider::of(seed, program, rng.below(PROVIDERS_PER_POOL));
    let service_date = base.offset(rng.between(0, 30) as i64);

    out.reset_count();
    out.start("ST").el("270").el("").padded(number, 4).el("005010X279A1").end();
    out.start("BHT")
        .el("0022")
        .el("13")
        .el("S")
        .digits(seed)
        .raw("N")
        .digits(number)
        .date(base.ymd)
        .el("")
        .padded(u64::from(base.time), 4)
        .end();
    out.start("HL").el("1").skip(1).el("20").el("1").end();
    out.start("NM1").el("PR").el("2").el(member.plan.name).skip(4).el("PI").el(member.plan.payer_id).end();
    out.start("HL").el("2").el("1").el("21").el("1").end();
    write_provider_name(out, "1P", &provider);
    out.start("HL").el("3").el("2").el("22").el("0").end();
    out.start("TRN").el("1").el("S").digits(seed).raw("N").digits(number).el(provider.originator()).end();
    out.start("NM1")
        .el("IL")
        .el("1")
        .el(member.last_name)
        .el(member.first_name)
        .skip(3)
        .el("MI")
        .el("M")
        .padded(member.number, 9)
        .end();
    out.start("DMG").el("D8").date(member.birth_date).el(member.gender.code()).end();
    out.start("DTP").el("291").el("D8").date(service_date).end();
    out.start("EQ").el("30").end();
    if rng.percent(40) {
        let service_type = match program {
            Program::RadiationOncology => "6",
            Program::Therapy => rng.pick(THERAPY_DISCIPLINES).service_type,
            Program::MskPain => "1",
            Program::MedicalOncology | Program::Admission => "78",
        };
        out.start("EQ").el(service_type).end();
    }
    let segments = u64::from(out.count()) + 1;
    out.start("SE").num(segments).el("").padded(number, 4).end();
}

/// NM1 of a provider: a person (NM102 1) when the provider has one and the roll says so, else
/// the organisation (NM102 2); NPI with qualifier XX.
fn write_provider_name(out: &mut SegmentBuffer, entity: &str, provider: &Provider) {
    out.start("NM1").el(entity);
    match provider.person {
        Some((last, first)) => {
            out.el("1").el(last).el(first).skip(3);
        }
        None => {
            out.el("2").el(provider.organisation.0).raw(" ").raw(provider.organisation.1).skip(4);
        }
    }
    out.el("XX").el(provider.npi()).end();
}

/// The program of a request: an admission now and then; else mostly one the member's plan
/// manages, sometimes one it does not.
fn choose_program(rng: &mut SplitMix64, member: &Member) -> Program {
    if rng.percent(ADMISSION_PERCENT) {
        Program::Admission
    } else if rng.percent(OFF_PLAN_PERCENT) || member.plan.programs.is_empty() {
        *rng.pick(&Program::OUTPATIENT)
    } else {
        *rng.pick(member.plan.programs)
    }
}

fn fits(sexes: Sexes, gender: Gender) -> bool {
    sexes == Sexes::Any || gender == Gender::Female
}

fn plan_request(rng: &mut SplitMix64, member: &Member, base: &BaseDate) -> Request {
    let program = choose_program(rng, member);
    let start = rng.between(3, 30) as i64;
    let from = base.offset(start);
    let mut request = Request {
        program,
        category: "HS",
        service_type: "1",
        facility: ("11", "B"),
        level_of_service: None,
        diagnoses: [None; 3],
        from,
        to: from,
        delivery: None,
        admission_type: None,
        taxonomy: program.taxonomy(),
        lines: Vec::with_capacity(4),
    };
    // The last day of the requested period, `low..=high` days after its first.
    let until = |rng: &mut SplitMix64, low: u64, high: u64| base.offset(start + rng.between(low, high) as i64);
    match program {
        Program::RadiationOncology => {
            let site = loop {
                let site = rng.pick(RADIATION_SITES);
                if fits(site.sexes, member.gender) {
                    break site;
                }
            };
            let fractions = rng.between(5, 35);
            request.service_type = "6";
            request.facility = (*rng.pick(&["22", "11"]), "B");
            request.diagnoses = [Some(*rng.pick(site.diagnoses)), Some(RADIATION_ENCOUNTER), None];
            request.to = until(rng, 45, 75);
            request.delivery = Some(("VS", fractions));
            request.lines.push(service("ZZ", site.code, None, 1, rng.between(8, 30) * 1000));
            if rng.percent(50) {
                let delivery = *rng.pick(RADIATION_DELIVERY);
                request.lines.push(service("HC", delivery, None, fractions, fractions * rng.between(250, 900)));
                request.lines.push(service(
                    "HC",
                    RADIATION_MANAGEMENT,
                    None,
                    fractions.div_ceil(5),
                    fractions.div_ceil(5) * 240,
                ));
                if rng.percent(50) {
                    let planning = *rng.pick(RADIATION_PLANNING);
                    request.lines.push(service("HC", planning, None, 1, rng.between(4, 20) * 100));
                }
            }
        }
        Program::Therapy => {
            let discipline = rng.pick(THERAPY_DISCIPLINES);
            let visits = rng.between(6, 24);
            request.category = if rng.percent(REFERRAL_PERCENT) { "SC" } else { "HS" };
            request.service_type = discipline.service_type;
            request.diagnoses = [Some(*rng.pick(discipline.diagnoses)), None, None];
            request.to = until(rng, 45, 95);
            request.delivery = Some(("VS", visits));
            request.taxonomy = discipline.taxonomy;
            request.lines.push(service("ZZ", discipline.code, None, visits, visits * 150));
            let mut chosen: Vec<&str> = Vec::with_capacity(2);
            for _ in 0..rng.below(3) {
                let cpt = *rng.pick(discipline.cpt);
                if chosen.contains(&cpt) {
                    continue;
                }
                chosen.push(cpt);
                let units = visits * rng.between(1, 3);
                request.lines.push(service("HC", cpt, None, units, units * rng.between(40, 120)));
            }
        }
        Program::MskPain => {
            let first = rng.pick(PAIN_PROCEDURES);
            request.category = if rng.percent(REFERRAL_PERCENT) { "SC" } else { "HS" };
            request.facility = (*rng.pick(&["24", "22", "11"]), "B");
            request.diagnoses = [Some(*rng.pick(first.diagnoses)), None, None];
            request.to = until(rng, 30, 60);
            let mut procedures = vec![first];
            if rng.percent(30) {
                let second = rng.pick(PAIN_PROCEDURES);
                if second.cpt != first.cpt {
                    procedures.push(second);
                }
            }
            for procedure in procedures {
                let modifier = procedure.lateral.then(|| *rng.pick(LATERALITY));
                request.lines.push(service("HC", procedure.cpt, modifier, 1, rng.between(6, 30) * 100));
            }
        }
        Program::MedicalOncology => {
            let cancer = loop {
                let cancer = rng.pick(CANCER_TYPES);
                if fits(cancer.sexes, member.gender) {
                    break cancer;
                }
            };
            let cycles = rng.between(4, 12);
            request.service_type = "78";
            request.facility = (*rng.pick(&["11", "22"]), "B");
            request.diagnoses = [Some(*rng.pick(cancer.diagnoses)), Some(CHEMOTHERAPY_ENCOUNTER), None];
            request.to = until(rng, 90, 180);
            request.delivery = Some(("VS", cycles));
            let mut drugs: Vec<&Drug> = rng.pick(cancer.regimens).to_vec();
            if rng.percent(CUSTOM_REGIMEN_PERCENT) {
                drugs.clear();
                for _ in 0..rng.between(2, 3) {
                    let drug = *rng.pick(ALL_DRUGS);
                    if !drugs.iter().any(|d| d.hcpcs == drug.hcpcs) {
                        drugs.push(drug);
                    }
                }
            }
            for drug in drugs {
                let units = rng.between(drug.units.0, drug.units.1);
                request.lines.push(service("HC", drug.hcpcs, None, units, units * rng.between(5, 60)));
            }
        }
        Program::Admission => {
            let admission = rng.pick(ADMISSIONS);
            let stay = rng.between(admission.days.0, admission.days.1);
            let emergency = rng.percent(60);
            request.category = "AR";
            request.service_type = "48";
            request.facility = ("11", "A");
            request.level_of_service = Some(if emergency { "03" } else { "U" });
            request.admission_type = Some(if emergency { ("1", "7") } else { ("2", "1") });
            request.diagnoses = [Some(admission.diagnosis), None, None];
            let admitted = rng.between(0, 2) as i64;
            request.from = base.offset(admitted);
            request.to = base.offset(admitted + stay as i64);
            request.delivery = Some(("DY", stay));
            if rng.percent(50) {
                request.lines.push(Line {
                    qualifier: "",
                    code: "0120",
                    modifier: None,
                    quantity: stay,
                    charge: stay * rng.between(15, 40) * 100,
                    institutional: true,
                });
            }
        }
    }
    request
}

fn service(
    qualifier: &'static str,
    code: &'static str,
    modifier: Option<&'static str>,
    quantity: u64,
    charge: u64,
) -> Line {
    Line { qualifier, code, modifier, quantity, charge, institutional: false }
}
