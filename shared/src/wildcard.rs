//! IAM-style wildcards: `*` (any run of characters) and `?` (one character).
//!
//! Two questions are asked of them: does a pattern match a concrete string, and does
//! one pattern *cover* another (every string the narrower one matches, the wider one
//! matches too). The second is what the allowlist needs: an approved `s3:Get*` covers
//! a granted `s3:GetObject` and a granted `s3:Get*`, but not a granted `s3:*`.

/// Does `pattern` match `text`? ASCII case-insensitive when `fold_case` (IAM actions).
pub fn matches(pattern: &str, text: &str, fold_case: bool) -> bool {
    covers_bytes(pattern.as_bytes(), text.as_bytes(), fold_case, false)
}

/// Does `wide` cover every string `narrow` can match? `narrow`'s own wildcards are
/// treated as symbols that only a `*` (or, for `?`, a `?` or `*`) of `wide` absorbs.
/// Sound: never says yes wrongly. It can say no for exotic pairs such as `a*` vs
/// `a*a*`, where the answer is yes but a narrower approval is asked for instead.
pub fn covers(wide: &str, narrow: &str, fold_case: bool) -> bool {
    covers_bytes(wide.as_bytes(), narrow.as_bytes(), fold_case, true)
}

/// Does `pattern` match `text` with `*` and `?` never matching `sep`? Each part between
/// separators is matched alone, case-sensitively, and both must have as many parts.
pub fn matches_within_parts(pattern: &str, text: &str, sep: char) -> bool {
    let (mut p, mut t) = (pattern.split(sep), text.split(sep));
    loop {
        match (p.next(), t.next()) {
            (Some(a), Some(b)) if matches(a, b, false) => continue,
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Whether `s` holds an IAM wildcard (`*` or `?`).
pub fn has_wildcard(s: &str) -> bool {
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// Up to the pattern's first wildcard, one byte-for-byte comparison: nothing can absorb
/// a difference before it, so most pairs are settled there (`kms:Decrypt` against
/// `s3:Get*` at the first byte), and a pattern with none or one trailing `*` (`s3:Get*`,
/// `kms:*`) needs nothing more. A wildcard in `t` compares as a symbol no plain byte of
/// `p` equals, as in the full match.
fn covers_bytes(p: &[u8], t: &[u8], fold: bool, t_has_wildcards: bool) -> bool {
    let eq = |a: u8, b: u8| same_byte(a, b, fold);
    for (k, &c) in p.iter().enumerate() {
        if c == b'*' || c == b'?' {
            return if c == b'*' && k + 1 == p.len() {
                true
            } else {
                // The same state the full match would be in here: no `*` passed yet.
                glob(&p[k..], &t[k..], fold, t_has_wildcards)
            };
        }
        match t.get(k) {
            Some(&d) if eq(c, d) => {}
            _ => return false,
        }
    }
    t.len() == p.len()
}

/// Equal bytes, ASCII case-insensitively when `fold`.
fn same_byte(a: u8, b: u8, fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Iterative glob match with single-star backtracking: linear in practice, never
/// exponential (policies are attacker-controlled input).
fn glob(p: &[u8], t: &[u8], fold: bool, t_has_wildcards: bool) -> bool {
    let eq = |a: u8, b: u8| same_byte(a, b, fold);
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let tc = t[ti];
        let t_is_star = t_has_wildcards && tc == b'*';
        let t_is_q = t_has_wildcards && tc == b'?';
        if pi < p.len() {
            let pc = p[pi];
            if pc == b'*' {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            let step = if pc == b'?' {
                // `?` absorbs one concrete character or a narrow `?`, not a narrow `*`.
                !t_is_star
            } else {
                !t_is_star && !t_is_q && eq(pc, tc)
            };
            if step {
                pi += 1;
                ti += 1;
                continue;
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("s3:Get*", "s3:GetObject", true));
        assert!(matches("S3:GET*", "s3:getobject", true));
        assert!(!matches("s3:Get*", "s3:PutObject", true));
        assert!(matches("*", "", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches(
            "arn:aws:iam::*:role/crossguard-*",
            "arn:aws:iam::1:role/crossguard-x",
            false
        ));
        assert!(!matches("Bucket/x", "bucket/x", false));
    }

    #[test]
    fn coverage_is_directional() {
        assert!(covers("s3:Get*", "s3:GetObject", true));
        assert!(covers("s3:Get*", "s3:Get*", true));
        assert!(covers("s3:Get*", "s3:GetObject*", true));
        assert!(covers("s3:*", "s3:Get*", true));
        assert!(covers("*", "*", true));
        assert!(!covers("s3:GetObject", "s3:Get*", true));
        assert!(!covers("s3:GetObject", "s3:*", true));
        assert!(!covers("s3:Get*", "s3:*", true));
        assert!(!covers("s3:Get*", "*", true));
        assert!(covers("s3:GetObjec?", "s3:GetObjec?", true));
        assert!(!covers("s3:GetObjec?", "s3:GetObjec*", true));
        assert!(covers("s3:GetObjec*", "s3:GetObjec?", true));
    }

    #[test]
    fn the_short_ways_agree_with_the_full_match() {
        let patterns = [
            "",
            "*",
            "s3:*",
            "s3:Get*",
            "s3:GetObject",
            "S3:GETOBJECT",
            "s3:Get",
            "a",
            "?",
            "s3:Get?bject",
            "*Object",
            "s3:*Object",
        ];
        let texts = [
            "",
            "*",
            "?",
            "s3:GetObject",
            "s3:getobject",
            "s3:Get*",
            "s3:*",
            "s3:Get",
            "s3:GetObject*",
            "s3:GetObjec?",
            "s3:Ge",
            "a",
            "A",
            "s3:Get?bject",
            "é",
            "s3:Getéx",
        ];
        // And every string of up to four symbols over a small alphabet, as both.
        let mut small = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = small
                .iter()
                .filter(|s| s.len() == small.last().map_or(0, String::len))
                .flat_map(|s| ["a", "A", "b", "*", "?"].map(|c| format!("{s}{c}")))
                .collect();
            small.extend(longer);
        }
        let patterns: Vec<&str> = patterns
            .into_iter()
            .chain(small.iter().map(String::as_str))
            .collect();
        let texts: Vec<&str> = texts
            .into_iter()
            .chain(small.iter().map(String::as_str))
            .collect();
        for &p in &patterns {
            for &t in &texts {
                for fold in [false, true] {
                    for wild in [false, true] {
                        assert_eq!(
                            covers_bytes(p.as_bytes(), t.as_bytes(), fold, wild),
                            glob(p.as_bytes(), t.as_bytes(), fold, wild),
                            "{p} {t} {fold} {wild}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn no_exponential_blowup() {
        let p = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let t = "a".repeat(10_000);
        assert!(!matches(p, &t, false));
    }
}
