//! The password hashes of partner credentials in the configuration (`[[partners]]
//! http_password_hash`).
//!
//! Why checked here: `umgate config check` must report a hash the daemon could not verify (a
//! typo, a bcrypt string pasted by habit) with its file and line, not the first login at run time.
//! Only argon2 PHC strings are accepted: the daemon verifies nothing else.

use argon2::PasswordHash;

/// The algorithms the daemon verifies.
const ALGORITHMS: [&str; 3] = ["argon2id", "argon2i", "argon2d"];

/// `Ok` when `phc` is an argon2 PHC string with a salt and a hash; else what is wrong with it.
pub fn check_password_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc)
        .map_err(|error| format!("is not a PHC string ({error}); make one with `umgate partner hash-password`"))?;
    if !ALGORITHMS.contains(&hash.algorithm.as_str()) {
        return Err(format!(
            "uses {}; only argon2 (argon2id) hashes are verified: make one with `umgate partner hash-password`",
            hash.algorithm
        ));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("has no salt or no hash part; make one with `umgate partner hash-password`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_phc_strings_pass_and_others_say_what_is_wrong() {
        let good = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    Yh0n3gS4lBrr6pfwQn7Ls+9iyKUHOXv/jSDRd9oJZyQ";
        assert_eq!(check_password_hash(good), Ok(()));
        assert!(check_password_hash("hunter2").is_err_and(|m| m.contains("not a PHC string")));
        let bcrypt_like = "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(check_password_hash(bcrypt_like).is_err_and(|m| m.contains("only argon2")));
        assert!(check_password_hash("$argon2id$v=19$m=19456,t=2,p=1").is_err());
    }
}
