//! Every input the harness once found (tests/fixtures/fuzz) runs through the oracle again.

use conv_fuzz_harness::{corpus, oracle};

#[test]
fn found_inputs_pass_the_oracle() {
    let dir = corpus::repo_root().join("tests/fixtures/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    for path in files {
        let data = std::fs::read(&path).unwrap();
        // On a spawned thread, with the default stack of one.
        let result = std::thread::spawn(move || oracle::run(&data)).join();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{}: {e}", path.display()),
            Err(_) => panic!("{}: panicked", path.display()),
        }
    }
}
