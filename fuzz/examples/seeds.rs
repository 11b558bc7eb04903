//! Writes the seed corpus (`corpus/<target>/seed-*`) from real encodings, after checking
//! that each seed reads back as what was written and runs through its target cleanly.
//!
//! `cargo run --example seeds` (in `fuzz/`) rewrites the seeds; `-- --check` only verifies
//! that the committed seeds are current and pass. Works on stable Rust, without cargo-fuzz.

use std::path::Path;
use std::process::ExitCode;

use walletwire_fuzz::{seeds, targets};

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut stale = 0;
    for (target, run) in targets::ALL {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        let list = seeds::of(target);
        if !check {
            for entry in std::fs::read_dir(&dir).expect("corpus directory") {
                let path = entry.expect("entry").path();
                let old_seed = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("seed-"));
                if old_seed {
                    std::fs::remove_file(&path).expect("remove an old seed");
                }
            }
        }
        let mut bytes_total = 0;
        for (name, bytes) in &list {
            seeds::check_decodes(target, bytes);
            run(bytes);
            let path = dir.join(format!("seed-{name}"));
            bytes_total += bytes.len();
            if check {
                if std::fs::read(&path).ok().as_ref() != Some(bytes) {
                    eprintln!("stale seed: {}", path.display());
                    stale += 1;
                }
            } else {
                std::fs::write(&path, bytes).expect("write a seed");
            }
        }
        println!("{target:20} {} seeds, {bytes_total} bytes", list.len());
    }
    if stale > 0 {
        eprintln!("{stale} seeds differ: run `cargo run --example seeds` in fuzz/");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
