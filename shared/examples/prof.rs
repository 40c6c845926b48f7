//! Where a decision's time goes, stage by stage (a quick look; `cargo bench` is the measure).
use crossguard_engine::*;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let al_text = std::fs::read_to_string(format!("{dir}/allowlist.toml")).unwrap();
    let al = Allowlist::from_toml(&al_text, "a").unwrap();
    let r = Resource::from_spec("key/k", "222222222222", Some("eu-west-1")).unwrap();
    let opts = Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    };
    for name in ["trust-small", "key-medium", "bucket-5k", "bucket-20k"] {
        let text = std::fs::read_to_string(format!("{dir}/policies/{name}.json")).unwrap();
        let n = 500;
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
        let t = Instant::now();
        for _ in 0..n {
            black_box(decide(&al, &r, Some(&doc), opts));
        }
        println!("{name:12} parse {parse:>10.1?}  evaluate {eval:>10.1?}  decide(+plan+verify) {:>10.1?}", t.elapsed() / n);
    }
}
