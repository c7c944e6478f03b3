//! Built-in word lists for fake people and organisations. Small on purpose: the names only have
//! to look like names; a member is told apart by the member ID, never by the name.

pub const FEMALE_FIRST_NAMES: &[&str] = &[
    "ADA", "ALMA", "AMELIA", "ANNA", "BEATRIX", "BERNICE", "CAMILLE", "CLARA", "DAISY", "DELIA", "EDITH", "ELSIE",
    "ESTHER", "FLORA", "GLADYS", "GRETA", "HAZEL", "HELENA", "IDA", "IMOGEN", "IRIS", "JUNE", "LENA", "LORETTA",
    "LUCILLE", "MABEL", "MARGOT", "MAVIS", "MINERVA", "NELL", "NORA", "OLIVE", "OPAL", "PEARL", "PHOEBE", "RUBY",
    "SYLVIA", "THEA", "VERA", "WILLA",
];

pub const MALE_FIRST_NAMES: &[&str] = &[
    "ABEL", "ALVIN", "AMOS", "ARLO", "BARNABY", "BASIL", "CALVIN", "CASPER", "CYRUS", "DEXTER", "EDGAR", "ELMER",
    "EMMETT", "FELIX", "GIDEON", "GROVER", "HOMER", "HORACE", "IRVING", "JASPER", "JUDE", "LEVI", "LYLE", "MILO",
    "MORRIS", "NED", "OSCAR", "OTIS", "PERCY", "RUFUS", "SILAS", "THADDEUS", "TOBIAS", "VIRGIL", "WALLACE", "WARREN",
    "WENDELL", "WILBUR", "ZANE", "ZEKE",
];

pub const LAST_NAMES: &[&str] = &[
    "ABERNATHY",
    "ALDRIDGE",
    "ASHWORTH",
    "BALLARD",
    "BARTLETT",
    "BEAUMONT",
    "BLACKWOOD",
    "BRAMBLE",
    "BRIGHTWATER",
    "BURLINGAME",
    "CALLOWAY",
    "CARRINGTON",
    "CHATWIN",
    "CLAYBORNE",
    "CORNWALL",
    "CROMWELL",
    "DALRYMPLE",
    "DELACROIX",
    "DRUMMOND",
    "EASTWICK",
    "ELLSWORTH",
    "FAIRWEATHER",
    "FARNSWORTH",
    "FENWICK",
    "FITZGERALD",
    "GAINSBOROUGH",
    "GALLOWAY",
    "GREYSTONE",
    "HALLORAN",
    "HARGREAVES",
    "HATHAWAY",
    "HAWTHORNE",
    "HOLLINGSWORTH",
    "INGLEWOOD",
    "JAMESON",
    "KENSINGTON",
    "KINGSLEY",
    "LANCASTER",
    "LARKSPUR",
    "LOCKHART",
    "MACALLISTER",
    "MARLOWE",
    "MERRIWEATHER",
    "MONTGOMERY",
    "NETHERCOTT",
    "NORTHCOTT",
    "OAKHURST",
    "ODELL",
    "PEMBERTON",
    "PENNYWHISTLE",
    "QUINCEY",
    "RADCLIFFE",
    "RAVENSWORTH",
    "ROCKWELL",
    "ROSENQUIST",
    "SALTONSTALL",
    "SHACKLEFORD",
    "SINCLAIR",
    "STANHOPE",
    "SUTHERLAND",
    "THACKERAY",
    "THORNBURY",
    "TREMAINE",
    "UPSHAW",
    "VANDERMEER",
    "WAINWRIGHT",
    "WEATHERBY",
    "WHITTAKER",
    "WINTERBOTTOM",
    "YARBOROUGH",
];

/// First words of fake practice, centre and hospital names.
pub const PLACE_WORDS: &[&str] = &[
    "BLUE HERON",
    "CEDAR RIDGE",
    "CLEARWATER",
    "CRESTVIEW",
    "EVERGREEN",
    "FOX RIVER",
    "GOLDEN PRAIRIE",
    "HIGHLAND PARK",
    "IRONWOOD",
    "LAKESIDE",
    "MAPLE GROVE",
    "MEADOWBROOK",
    "NORTHSHORE",
    "OAK HOLLOW",
    "PINECREST",
    "RIVERBEND",
    "SILVER CREEK",
    "STONEBRIDGE",
    "SUMMIT",
    "WILLOW SPRINGS",
];

/// Street names and kinds for fake addresses.
pub const STREETS: &[&str] =
    &["OAK", "MAPLE", "ELM", "CEDAR", "LAKE", "HILL", "PARK", "RIVER", "MEADOW", "ORCHARD", "SPRING", "WILLOW"];
pub const STREET_KINDS: &[&str] = &["ST", "AVE", "RD", "BLVD", "DR", "LN"];

/// Cities with their state, the first three digits of their ZIP codes and a telephone area code.
pub const CITIES: &[(&str, &str, &str, &str)] = &[
    ("CHICAGO", "IL", "606", "312"),
    ("SPRINGFIELD", "IL", "627", "217"),
    ("PEORIA", "IL", "616", "309"),
    ("ROCKFORD", "IL", "611", "815"),
    ("NASHVILLE", "TN", "372", "615"),
    ("HARTFORD", "CT", "061", "860"),
    ("PHILADELPHIA", "PA", "191", "215"),
    ("PHOENIX", "AZ", "850", "602"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fit_x12_names() {
        let lists = [FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, LAST_NAMES, PLACE_WORDS, STREETS, STREET_KINDS];
        for word in lists.iter().flat_map(|list| list.iter()).chain(CITIES.iter().map(|c| &c.0)) {
            assert!(word.len() <= 35, "{word}");
            assert!(word.bytes().all(|b| b.is_ascii_uppercase() || b == b' '), "{word}");
        }
    }
}
