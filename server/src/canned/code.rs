//! The shape of a quick reply's code, shared by the organisation's configuration (team
//! responses, checked at start-up) and professionals' own responses.

/// Longest code, in characters.
pub const MAX_CODE_CHARS: usize = 32;

/// A code is 1–32 characters of `a-z`, `0-9`, `_` and `-` (typed after a `/` in the composer).
pub fn check_code(code: &str) -> Result<(), String> {
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Err(format!("code must be 1-{MAX_CODE_CHARS} characters"));
    }
    if !code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err("code may hold only a-z, 0-9, _ and -".to_owned());
    }
    Ok(())
}
