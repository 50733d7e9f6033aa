//! Every example's README says what its program does: for each release, a line
//! `Stages of `NAME`: `a` -> `b` (on failure: roll back).` that matches the program.

mod common;

use common::project::text;

#[test]
fn every_example_readme_names_its_releases_stages_in_order() {
    let examples = common::repo_root().join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap().flatten() {
        let dir = entry.path();
        let has_program =
            std::fs::read_dir(&dir).unwrap().flatten().any(|f| f.path().extension().is_some_and(|e| e == "conv"));
        if !has_program {
            continue;
        }
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|_| panic!("{} has no README", dir.display()));
        let out = common::project::conv(&["eval", dir.to_str().unwrap(), "--format", "json"], &examples);
        assert!(out.status.success(), "{}", text(&out));
        let program: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for release in program["releases"].as_array().unwrap() {
            let stages: Vec<String> = release["stages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| format!("`{}`", s["name"].as_str().unwrap()))
                .collect();
            let on_failure = if release["on_failure"] == "pause" { "pause" } else { "roll back" };
            let line = format!(
                "Stages of `{}`: {} (on failure: {on_failure}).",
                release["name"].as_str().unwrap(),
                stages.join(" -> ")
            );
            assert!(readme.contains(&line), "{}/README.md must say:\n{line}", dir.display());
            checked += 1;
        }
        // A README that names an on_failure value names the program's.
        for (word, value) in [("`on_failure = pause`", "pause"), ("`on_failure = rollback`", "rollback")] {
            if readme.contains(word) {
                assert!(
                    program["releases"].as_array().unwrap().iter().any(|r| r["on_failure"] == value),
                    "{}/README.md speaks of {word}, which no release of it uses",
                    dir.display()
                );
            }
        }
    }
    assert!(checked >= 4, "{checked} releases checked");
}
