//! The coverage-guided entry: AFL++ (through `cargo afl`) runs the target named by
//! `CROSSGUARD_FUZZ_TARGET` (policy, event or allowlist) in persistent mode. A panic
//! aborts the process, which AFL records as a crash.

fn main() {
    let name = std::env::var("CROSSGUARD_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = crossguard_fuzz::target(&name) else {
        eprintln!(
            "CROSSGUARD_FUZZ_TARGET must be one of {:?}, not {name:?}",
            crossguard_fuzz::TARGETS
        );
        std::process::exit(2);
    };
    // Loaded before the loop, so its cost is not counted against every input.
    crossguard_fuzz::warm();
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
