//! `envoyx check-config`: EnvoyX configurations checked with the core's rules, one file or the
//! JSON lines `ci/validate-k8s.py` extracts from manifests, naming where each problem is.

use std::process::Command;

fn check_config(files: &[&std::path::Path]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx")).arg("check-config").args(files).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn good_and_bad_configurations_in_files_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"name": "auth", "file_path": "/m/libauth.so", "filter_config": "x"}"#).unwrap();
    let (code, out) = check_config(&[&good]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("ok    {}: module /m/libauth.so", good.display())), "{out}");

    let lines = dir.path().join("manifests.jsonl");
    let sha = "ab".repeat(32);
    let remote = format!(r#"{{"remote": {{"url": "https://h/m.so", "sha256": "{sha}"}}}}"#);
    let entries = [
        serde_json::json!({"where": "gw.yaml #4", "config": remote}),
        serde_json::json!({"where": "istio.yaml #3", "config": r#"{"file_path": "/m.so", "do_not_dlclose": "yes"}"#}),
    ];
    let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&lines, text).unwrap();
    let (code, out) = check_config(&[&good, &lines]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("(gw.yaml #4): module https://h/m.so (sha256 "), "{out}");
    assert!(
        out.contains(&format!(
            "FAIL  {}:2 (istio.yaml #3): EnvoyX config: field `do_not_dlclose`: expected a boolean, got a string",
            lines.display()
        )),
        "{out}"
    );
    assert!(out.contains("3 configurations checked, 1 problems"), "{out}");

    let (code, out) = check_config(&[]);
    assert_eq!(code, 2, "{out}");
}
