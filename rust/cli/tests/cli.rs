use std::process::Command;

fn envoyx(args: &[&str], cache: &std::path::Path) -> (i32, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_envoyx")).args(args).env("ENVOYX_CACHE", cache).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn envoy_list_reports_each_version_and_its_state() {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-envoy-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let fake = cache.join("1.39.3/envoy");
    std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
    std::fs::write(&fake, "").unwrap();
    let (code, stdout, _) = envoyx(&["envoy", "list"], &cache);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("1.38.3\tnot installed"), "{stdout}");
    assert!(
        lines.iter().any(|l| l.starts_with("1.39.3\tinstalled\t") && l.ends_with("1.39.3/envoy")),
        "{stdout}"
    );
}

#[test]
fn unknown_version_and_unknown_command_fail_clearly() {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-envoy-cache-2");
    let (code, _, stderr) = envoyx(&["envoy", "install", "1.2.3"], &cache);
    assert_eq!(code, 1);
    assert!(stderr.contains("1.2.3"), "{stderr}");
    let (code, _, stderr) = envoyx(&["frobnicate"], &cache);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown command `frobnicate`"), "{stderr}");
}

#[test]
fn bench_help_names_the_modes_and_the_results_folder() {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-envoy-cache-3");
    let (code, stdout, _) = envoyx(&["bench", "--help"], &cache);
    assert_eq!(code, 0);
    assert!(stdout.contains("quick|full|profile"), "{stdout}");
    assert!(stdout.contains("bench/results/"), "{stdout}");
    let (_, usage, _) = envoyx(&["help"], &cache);
    assert!(usage.contains("bench [quick|full|profile]"), "{usage}");
}
