//! The protocol modules form layers (issue 17): record ← session ← connection ← {dapp,
//! wallet}, with `codec` (the hand-written JSON of the messages) under `record`, and `info`,
//! `request`, `message`, `sas`, `otp`, `rpc` and `channel` below them.
//! A module may import (`super::<module>`) only from layers below its own; this reads the
//! sources, so a cycle fails here before it confuses a reader.

use std::collections::BTreeMap;

/// Layer of each module of `src/protocol/` (`mod.rs` is the facade above them all).
const LAYERS: &[(&str, u8)] = &[
    ("channel", 0),
    ("error", 0),
    ("otp", 0),
    ("rpc", 0),
    ("request", 1),
    ("scope", 0),
    ("sas", 1),
    ("info", 2),
    ("message", 2),
    ("codec", 3),
    ("record", 4),
    ("session", 5),
    ("connection", 6),
    ("dapp", 7),
    ("wallet", 7),
];

#[test]
fn protocol_modules_import_only_from_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/protocol");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if name == "mod" {
            continue;
        }
        let own = *layers
            .get(name.as_str())
            .unwrap_or_else(|| panic!("src/protocol/{name}.rs has no layer in LAYERS"));
        seen += 1;
        let source = std::fs::read_to_string(&path).unwrap();
        // Tests may reach anywhere.
        let code = source.split("#[cfg(test)]").next().unwrap();
        for (at, _) in code.match_indices("super::") {
            let rest = &code[at + "super::".len()..];
            let module: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(&theirs) = layers.get(module.as_str()) {
                assert!(
                    theirs < own,
                    "src/protocol/{name}.rs (layer {own}) imports super::{module} (layer {theirs})"
                );
            }
        }
    }
    assert_eq!(
        seen,
        LAYERS.len(),
        "every module of src/protocol/ is listed"
    );
}
