//! Where a decision's time goes, stage by stage (a quick look; `cargo bench` is the measure).
use crossguard_engine::*;
use std::hint::black_box;
use std::time::Instant;

// As the bench and the CLI run the engine.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let al_text = std::fs::read_to_string(format!("{dir}/allowlist.toml")).unwrap();
    let al = Allowlist::from_toml(&al_text, "a").unwrap();
    let opts = Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    };
    // One policy by name (for a profiler), or all of them; with a stage (`none`, `parse`,
    // `evaluate`, `decide`), only that stage's loop runs, for instruction counts under
    // callgrind (`none` is the set-up to subtract); `full` parses and decides, as the
    // criterion bench does.
    let only = std::env::args().nth(1);
    let stage = std::env::args().nth(2);
    for (name, spec) in [
        ("trust-small", "role/VendorAudit"),
        ("key-medium", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("bucket-5k", "bucket/shared-data"),
        ("bucket-20k", "bucket/data-lake"),
        ("bucket-20k-one", "bucket/data-lake"),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let r = Resource::from_spec(spec, "222222222222", Some("eu-west-1")).unwrap();
        let text = std::fs::read_to_string(format!("{dir}/policies/{name}.json")).unwrap();
        let n = if only.is_some() { 5000 } else { 500 };
        if let Some(stage) = &stage {
            let doc = PolicyDocument::parse(&text).unwrap();
            for _ in 0..n {
                match stage.as_str() {
                    "parse" => drop(black_box(PolicyDocument::parse(black_box(&text)))),
                    "evaluate" => drop(black_box(decision::evaluate(&al, &r, &doc, opts.today))),
                    "decide" => drop(black_box(decide(&al, &r, Some(&doc), opts))),
                    // As the criterion bench does: from the text each time.
                    "full" => {
                        let doc = PolicyDocument::parse(black_box(&text)).unwrap();
                        drop(black_box(decide(&al, &r, Some(&doc), opts)));
                    }
                    _ => {}
                }
            }
            continue;
        }
        let t = Instant::now();
        for _ in 0..n {
            black_box(PolicyDocument::parse(black_box(&text)).unwrap());
        }
        let parse = t.elapsed() / n;
        let doc = PolicyDocument::parse(&text).unwrap();
        let t = Instant::now();
        for _ in 0..n {
            black_box(decision::evaluate(&al, &r, &doc, opts.today));
        }
        let eval = t.elapsed() / n;
        let d = decide(&al, &r, Some(&doc), opts);
        let violations = d.violations().count();
        let grants = d.findings.len();
        let t = Instant::now();
        for _ in 0..n {
            black_box(decide(&al, &r, Some(&doc), opts));
        }
        println!("{name:14} {violations:>3}/{grants:<3} grants unapproved  parse {parse:>10.1?}  evaluate {eval:>10.1?}  decide(+plan+verify) {:>10.1?}", t.elapsed() / n);
    }
}
