//! What the unit tests share: the example allowlist, and a fixed day to judge by.

use crossguard_engine::{Allowlist, Date, Options};

/// The repository's example allowlist (`examples/allowlist.toml`), as the examples were
/// written to be judged by it, and options fixed on 2026-06-01 (expiries stay put).
pub fn examples() -> (Allowlist, Options) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/allowlist.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let allowlist = Allowlist::from_toml(&text, "allowlist.toml").unwrap();
    let opts = Options {
        today: Date::new(2026, 6, 1).unwrap(),
        mode: None,
    };
    (allowlist, opts)
}
