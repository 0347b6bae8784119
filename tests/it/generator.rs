//! The sample data are exactly what the generator in `examples/` writes.

use std::process::Command;

use super::util::{root, tempdir};

#[test]
fn the_generator_reproduces_the_shipped_sample_data_byte_for_byte() {
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kapok"))
        .parent()
        .unwrap()
        .join("examples/gen_sample_data");
    if !exe.exists() {
        // `cargo test` builds examples; make sure they were built rather than skip silently.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "gen_sample_data"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let dir = tempdir();
    let status = Command::new(&exe)
        .arg(dir.path())
        .arg(root().join("data/reference"))
        .current_dir(root())
        .status()
        .unwrap();
    assert!(status.success());
    let mut compared = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().is_file() {
            continue;
        }
        let name = entry.file_name();
        let shipped = root().join("data").join(&name);
        assert_eq!(
            std::fs::read(entry.path()).unwrap(),
            std::fs::read(&shipped).unwrap_or_default(),
            "data/{} differs from what the generator writes",
            name.to_string_lossy()
        );
        compared += 1;
    }
    assert!(compared >= 8, "the generator wrote only {compared} files");
}
