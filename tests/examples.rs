//! Every example prints exactly what its Python twin prints.
mod common;

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
