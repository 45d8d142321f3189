//! Every example prints exactly what its Python twin prints; the few that show what Python
//! 3.11 has no twin for (e.g. the task tree, 3.14's) print their recording in
//! tests/expected/NAME.out instead.
mod common;

use std::path::Path;

/// The recorded output of an example without a Python twin, if it is one of those.
fn recording(name: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(format!("{name}.out"));
    path.exists().then_some(path)
}

#[test]
fn examples_without_a_twin_match_their_recording() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap();
        let bin = common::examples_dir().join(name);
        let out = std::process::Command::new(&bin).output().unwrap();
        assert!(out.status.success(), "example {name} failed");
        let actual = String::from_utf8(out.stdout).unwrap();
        let recorded = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            actual,
            recorded,
            "example {name} differs from {}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no recordings found");
}

#[test]
fn every_example_matches_its_python_twin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let is_rs = path.extension().is_some_and(|x| x == "rs");
            is_rs.then(|| path.file_stem().unwrap().to_str().unwrap().to_string())
        })
        .filter(|name| recording(name).is_none())
        // The stackless examples are built only with the `nightly` feature.
        .filter(|name| cfg!(feature = "nightly") || !name.ends_with(common::STACKLESS))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no examples found");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            std::panic::catch_unwind(|| common::check_example(name))
                .err()
                .map(|_| name.clone())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "examples differing from Python: {failures:?}"
    );
}
