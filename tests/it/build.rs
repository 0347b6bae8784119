//! `cargo test` reuses the build of `cargo run`: the dev-dependencies turn on no feature of a
//! crate the main build also uses (else cargo compiles it, and all that depends on it —
//! DataFusion — a second time).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use super::util::root;

/// Every package of the build with its features, by `cargo tree` over the `edges` kinds.
fn features(edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree", "--frozen", "--prefix", "none", "-f", "{p}|{f}", "-e", edges,
        ])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let (package, feats) = line.split_once('|').expect("package|features");
        let package = package.trim_end_matches(" (*)").trim().to_string();
        let feats = feats.trim_end_matches(" (*)").trim();
        map.entry(package)
            .or_default()
            .extend(feats.split(',').filter(|f| !f.is_empty()).map(String::from));
    }
    map
}

#[test]
fn dev_dependencies_change_no_feature_of_the_main_build() {
    let main = features("normal,build");
    let test = features("normal,build,dev");
    assert!(
        main.len() > 100,
        "cargo tree lists the build: {}",
        main.len()
    );
    let changed: Vec<String> = main
        .iter()
        .filter(|(p, f)| test.get(*p) != Some(f))
        .map(|(p, f)| format!("{p}: {f:?} → {:?}", test.get(p)))
        .collect();
    assert!(
        changed.is_empty(),
        "the tests build these crates with other features, so `cargo test` compiles them and what \
         depends on them again; ask for the same features in [dependencies]:\n{}",
        changed.join("\n")
    );
}
