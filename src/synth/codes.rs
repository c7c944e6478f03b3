//! The health plans, programs and code sets the synthetic requests draw from: the plans of SPEC
//! section 8 (keys stable) and the service and diagnosis codes of the seed programs, so that
//! generated traffic routes the way real traffic for those programs would. Diagnosis codes are
//! written as X12 carries them, without the ICD-10 dot (C18.9 is `C189`).

/// Line of business, as the roster CSV writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOfBusiness {
    Commercial,
    Medicare,
    Medicaid,
    Dual,
}

impl LineOfBusiness {
    pub fn as_str(self) -> &'static str {
        match self {
            LineOfBusiness::Commercial => "commercial",
            LineOfBusiness::Medicare => "medicare",
            LineOfBusiness::Medicaid => "medicaid",
            LineOfBusiness::Dual => "dual",
        }
    }

    /// Youngest and oldest member age, in years.
    pub fn ages(self) -> (u64, u64) {
        match self {
            LineOfBusiness::Commercial => (18, 64),
            LineOfBusiness::Medicare | LineOfBusiness::Dual => (65, 92),
            LineOfBusiness::Medicaid => (19, 64),
        }
    }
}

/// The outpatient programs of the seeds, plus inpatient/ER admissions (which no program manages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    RadiationOncology,
    Therapy,
    MskPain,
    MedicalOncology,
    Admission,
}

impl Program {
    pub const OUTPATIENT: [Program; 4] =
        [Program::RadiationOncology, Program::Therapy, Program::MskPain, Program::MedicalOncology];

    /// Index of the program's provider pool.
    pub fn pool(self) -> u64 {
        match self {
            Program::RadiationOncology => 1,
            Program::Therapy => 2,
            Program::MskPain => 3,
            Program::MedicalOncology => 4,
            Program::Admission => 5,
        }
    }

    /// Practice names end with this.
    pub fn practice_suffix(self) -> &'static str {
        match self {
            Program::RadiationOncology => "RADIATION ONCOLOGY",
            Program::Therapy => "REHABILITATION",
            Program::MskPain => "SPINE AND PAIN CENTER",
            Program::MedicalOncology => "CANCER CENTER",
            Program::Admission => "GENERAL HOSPITAL",
        }
    }

    /// Health care provider taxonomy of the program's physicians (PRV03).
    pub fn taxonomy(self) -> &'static str {
        match self {
            Program::RadiationOncology => "2085R0001X",
            Program::Therapy => "225100000X",
            Program::MskPain => "208VP0014X",
            Program::MedicalOncology => "207RX0202X",
            Program::Admission => "207P00000X",
        }
    }
}

/// A health plan of the sample configuration.
#[derive(Debug)]
pub struct Plan {
    /// Configuration key (SPEC section 8).
    pub key: &'static str,
    /// UMO name (2010A) and payer name (270 2100A).
    pub name: &'static str,
    /// UMO / payer identifier, NM109 with qualifier PI (fake).
    pub payer_id: &'static str,
    /// Lines of business with their weights.
    pub lines_of_business: &'static [(LineOfBusiness, u64)],
    /// Programs the plan manages: most requests for its members are for these.
    pub programs: &'static [Program],
    /// Share of the member pool, relative.
    pub weight: u64,
}

pub const PLANS: &[Plan] = &[
    Plan {
        key: "aetna-better-health-il",
        name: "AETNA BETTER HEALTH OF ILLINOIS",
        payer_id: "SYN0000001",
        lines_of_business: &[(LineOfBusiness::Medicaid, 70), (LineOfBusiness::Dual, 30)],
        programs: &[Program::MskPain, Program::MedicalOncology],
        weight: 25,
    },
    Plan {
        key: "healthspring-ma",
        name: "HEALTHSPRING MEDICARE ADVANTAGE",
        payer_id: "SYN0000002",
        lines_of_business: &[(LineOfBusiness::Medicare, 1)],
        programs: &[Program::RadiationOncology, Program::Therapy],
        weight: 20,
    },
    Plan {
        key: "aetna-medicare",
        name: "AETNA MEDICARE",
        payer_id: "SYN0000003",
        lines_of_business: &[(LineOfBusiness::Medicare, 1)],
        programs: &[Program::MskPain],
        weight: 15,
    },
    Plan {
        key: "aetna-medicaid",
        name: "AETNA MEDICAID",
        payer_id: "SYN0000004",
        lines_of_business: &[(LineOfBusiness::Medicaid, 1)],
        programs: &[Program::MskPain],
        weight: 15,
    },
    Plan {
        key: "cigna-commercial",
        name: "CIGNA HEALTHCARE",
        payer_id: "SYN0000005",
        lines_of_business: &[(LineOfBusiness::Commercial, 1)],
        programs: &[Program::MedicalOncology, Program::Therapy],
        weight: 25,
    },
];

/// Who a diagnosis or site applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sexes {
    Any,
    FemaleOnly,
}

/// Radiation oncology: the cancer-type code requested instead of CPT codes, and its diagnoses.
#[derive(Debug)]
pub struct RadiationSite {
    pub code: &'static str,
    pub diagnoses: &'static [&'static str],
    pub sexes: Sexes,
}

pub const RADIATION_SITES: &[RadiationSite] = &[
    RadiationSite { code: "RCBREA", diagnoses: &["C50911", "C50912", "C50411", "C50811"], sexes: Sexes::FemaleOnly },
    RadiationSite { code: "RCBRAI", diagnoses: &["C719", "C711"], sexes: Sexes::Any },
    RadiationSite { code: "RCBLAD", diagnoses: &["C679", "C672"], sexes: Sexes::Any },
    RadiationSite { code: "RCCERV", diagnoses: &["C539"], sexes: Sexes::FemaleOnly },
    RadiationSite { code: "RCESOP", diagnoses: &["C159", "C155"], sexes: Sexes::Any },
    RadiationSite { code: "RCANAL", diagnoses: &["C210"], sexes: Sexes::Any },
    RadiationSite { code: "RCBONE", diagnoses: &["C7951"], sexes: Sexes::Any },
    RadiationSite { code: "RCENDO", diagnoses: &["C541"], sexes: Sexes::FemaleOnly },
    RadiationSite { code: "RCHEPA", diagnoses: &["C220"], sexes: Sexes::Any },
    RadiationSite { code: "RCGALL", diagnoses: &["C23"], sexes: Sexes::Any },
];

/// Radiation CPT codes: treatment delivery (one unit per fraction), weekly treatment management
/// (one unit per five fractions), and planning (one unit per course).
pub const RADIATION_DELIVERY: &[&str] = &["77385", "77386", "77412"];
pub const RADIATION_MANAGEMENT: &str = "77427";
pub const RADIATION_PLANNING: &[&str] = &["77301", "77263", "77338"];

/// Secondary diagnosis of a radiation course: encounter for antineoplastic radiation therapy.
pub const RADIATION_ENCOUNTER: &str = "Z510";

/// Therapy disciplines of seed 002.
#[derive(Debug)]
pub struct Discipline {
    /// The program code requested for the episode.
    pub code: &'static str,
    /// UM03 service type.
    pub service_type: &'static str,
    pub cpt: &'static [&'static str],
    pub diagnoses: &'static [&'static str],
    pub taxonomy: &'static str,
}

pub const THERAPY_DISCIPLINES: &[Discipline] = &[
    Discipline {
        code: "MSMPT",
        service_type: "PT",
        cpt: &["97161", "97162", "97110", "97140", "97530", "97112"],
        diagnoses: &["M5450", "M25561", "M1711", "M7541", "M6281"],
        taxonomy: "225100000X",
    },
    Discipline {
        code: "MSMOT",
        service_type: "AD",
        cpt: &["97165", "97166", "97530", "97535", "97110"],
        diagnoses: &["I69351", "M25641", "R278", "G5600"],
        taxonomy: "225X00000X",
    },
    Discipline {
        code: "MSMST",
        service_type: "AF",
        cpt: &["92507", "92523", "92526"],
        diagnoses: &["R471", "F800", "R1312", "I69320"],
        taxonomy: "235Z00000X",
    },
];

/// MSK interventional pain procedures with the diagnoses that go with them.
#[derive(Debug)]
pub struct PainProcedure {
    pub cpt: &'static str,
    pub diagnoses: &'static [&'static str],
    /// Whether the procedure takes a laterality modifier (LT, RT, 50).
    pub lateral: bool,
}

pub const PAIN_PROCEDURES: &[PainProcedure] = &[
    PainProcedure { cpt: "62321", diagnoses: &["M5412", "M5022", "M542"], lateral: false },
    PainProcedure { cpt: "62323", diagnoses: &["M5416", "M5417", "M5126"], lateral: false },
    PainProcedure { cpt: "64483", diagnoses: &["M5416", "M5417", "M4726"], lateral: true },
    PainProcedure { cpt: "64490", diagnoses: &["M47812", "M542"], lateral: true },
    PainProcedure { cpt: "64493", diagnoses: &["M47816", "M5450"], lateral: true },
    PainProcedure { cpt: "64635", diagnoses: &["M47816", "M47817"], lateral: true },
    PainProcedure { cpt: "64633", diagnoses: &["M47812"], lateral: true },
];

pub const LATERALITY: &[&str] = &["LT", "RT", "50"];

/// A drug HCPCS code and the units of one dose (units of the code's billing unit).
#[derive(Debug)]
pub struct Drug {
    pub hcpcs: &'static str,
    pub units: (u64, u64),
}

pub const OXALIPLATIN: Drug = Drug { hcpcs: "J9263", units: (250, 340) };
pub const LEUCOVORIN: Drug = Drug { hcpcs: "J0640", units: (12, 16) };
pub const FLUOROURACIL: Drug = Drug { hcpcs: "J9190", units: (8, 10) };
pub const IRINOTECAN: Drug = Drug { hcpcs: "J9206", units: (15, 18) };
pub const BEVACIZUMAB: Drug = Drug { hcpcs: "J9035", units: (35, 50) };
pub const DOXORUBICIN: Drug = Drug { hcpcs: "J9000", units: (10, 12) };
pub const CYCLOPHOSPHAMIDE: Drug = Drug { hcpcs: "J9070", units: (10, 12) };
pub const PACLITAXEL: Drug = Drug { hcpcs: "J9267", units: (140, 320) };
pub const DOCETAXEL: Drug = Drug { hcpcs: "J9171", units: (120, 150) };
pub const CARBOPLATIN: Drug = Drug { hcpcs: "J9045", units: (10, 16) };
pub const TRASTUZUMAB: Drug = Drug { hcpcs: "J9355", units: (40, 60) };
pub const PERTUZUMAB: Drug = Drug { hcpcs: "J9306", units: (420, 840) };
pub const PEMETREXED: Drug = Drug { hcpcs: "J9305", units: (85, 100) };
pub const PEMBROLIZUMAB: Drug = Drug { hcpcs: "J9271", units: (200, 200) };
pub const CISPLATIN: Drug = Drug { hcpcs: "J9060", units: (12, 15) };
pub const ETOPOSIDE: Drug = Drug { hcpcs: "J9181", units: (16, 20) };

pub const ALL_DRUGS: &[&Drug] = &[
    &OXALIPLATIN,
    &LEUCOVORIN,
    &FLUOROURACIL,
    &IRINOTECAN,
    &BEVACIZUMAB,
    &DOXORUBICIN,
    &CYCLOPHOSPHAMIDE,
    &PACLITAXEL,
    &DOCETAXEL,
    &CARBOPLATIN,
    &TRASTUZUMAB,
    &PERTUZUMAB,
    &PEMETREXED,
    &PEMBROLIZUMAB,
    &CISPLATIN,
    &ETOPOSIDE,
];

/// A cancer type: its diagnoses and the common regimens (drug sets) for it.
#[derive(Debug)]
pub struct CancerType {
    pub diagnoses: &'static [&'static str],
    pub regimens: &'static [&'static [&'static Drug]],
    pub sexes: Sexes,
}

pub const CANCER_TYPES: &[CancerType] = &[
    // Colon and rectum: FOLFOX, FOLFIRI, FOLFOX + bevacizumab.
    CancerType {
        diagnoses: &["C189", "C187", "C182", "C19", "C20"],
        regimens: &[
            &[&OXALIPLATIN, &LEUCOVORIN, &FLUOROURACIL],
            &[&IRINOTECAN, &LEUCOVORIN, &FLUOROURACIL],
            &[&OXALIPLATIN, &LEUCOVORIN, &FLUOROURACIL, &BEVACIZUMAB],
        ],
        sexes: Sexes::Any,
    },
    // Breast: AC then paclitaxel, TC, TCHP, paclitaxel + trastuzumab.
    CancerType {
        diagnoses: &["C50911", "C50912", "C50412", "C50811"],
        regimens: &[
            &[&DOXORUBICIN, &CYCLOPHOSPHAMIDE, &PACLITAXEL],
            &[&DOCETAXEL, &CYCLOPHOSPHAMIDE],
            &[&DOCETAXEL, &CARBOPLATIN, &TRASTUZUMAB, &PERTUZUMAB],
            &[&PACLITAXEL, &TRASTUZUMAB],
        ],
        sexes: Sexes::FemaleOnly,
    },
    // Lung: carboplatin + pemetrexed + pembrolizumab, cisplatin + etoposide, carboplatin + paclitaxel.
    CancerType {
        diagnoses: &["C3490", "C3411", "C3431", "C3412"],
        regimens: &[
            &[&CARBOPLATIN, &PEMETREXED, &PEMBROLIZUMAB],
            &[&CISPLATIN, &ETOPOSIDE],
            &[&CARBOPLATIN, &PACLITAXEL],
        ],
        sexes: Sexes::Any,
    },
];

/// Secondary diagnosis of a chemotherapy request: encounter for antineoplastic chemotherapy.
pub const CHEMOTHERAPY_ENCOUNTER: &str = "Z5111";

/// Inpatient and emergency admissions: principal diagnosis and expected days.
#[derive(Debug)]
pub struct Admission {
    pub diagnosis: &'static str,
    pub days: (u64, u64),
}

pub const ADMISSIONS: &[Admission] = &[
    Admission { diagnosis: "I214", days: (2, 5) },
    Admission { diagnosis: "J189", days: (3, 6) },
    Admission { diagnosis: "A419", days: (4, 9) },
    Admission { diagnosis: "K3580", days: (1, 3) },
    Admission { diagnosis: "S72001A", days: (3, 7) },
    Admission { diagnosis: "I5021", days: (3, 6) },
    Admission { diagnosis: "N390", days: (2, 4) },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_keys_are_the_spec_ones() {
        let keys: Vec<_> = PLANS.iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            ["aetna-better-health-il", "healthspring-ma", "aetna-medicare", "aetna-medicaid", "cigna-commercial"]
        );
    }

    #[test]
    fn diagnosis_codes_carry_no_dot() {
        let mut all: Vec<&str> = vec![RADIATION_ENCOUNTER, CHEMOTHERAPY_ENCOUNTER];
        all.extend(RADIATION_SITES.iter().flat_map(|s| s.diagnoses.iter().copied()));
        all.extend(THERAPY_DISCIPLINES.iter().flat_map(|d| d.diagnoses.iter().copied()));
        all.extend(PAIN_PROCEDURES.iter().flat_map(|p| p.diagnoses.iter().copied()));
        all.extend(CANCER_TYPES.iter().flat_map(|c| c.diagnoses.iter().copied()));
        all.extend(ADMISSIONS.iter().map(|a| a.diagnosis));
        for code in all {
            assert!((3..=7).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()), "{code}");
        }
    }
}
