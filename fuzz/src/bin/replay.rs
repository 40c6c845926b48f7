//! Runs inputs through a target outside AFL, each under `catch_unwind`: to reproduce and
//! minimise a crash AFL saved, or to check a corpus in a plain build.
//!
//!     cargo run --release --bin replay -- TARGET FILE_OR_DIR...
//!
//! Prints one line per input that panics and exits 1 if any did.

use std::panic;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let Some(target) = crossguard_fuzz::target(&name) else {
        eprintln!(
            "usage: replay TARGET FILE_OR_DIR... (TARGET one of {:?})",
            crossguard_fuzz::TARGETS
        );
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for a in args {
        let p = PathBuf::from(a);
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("a readable directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inner.sort();
            files.extend(inner);
        } else {
            files.push(p);
        }
    }
    crossguard_fuzz::warm();
    panic::set_hook(Box::new(|_| {}));
    let mut crashed = 0;
    for f in &files {
        let data = std::fs::read(f).expect("a readable file");
        if let Err(e) = panic::catch_unwind(|| target(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            println!("{}: panic: {msg}", f.display());
            crashed += 1;
        }
    }
    println!("{name}: {} input(s), {crashed} panic(s)", files.len());
    std::process::exit(i32::from(crashed > 0));
}
