//! `envoyx check-config FILE...`: checks EnvoyX filter configurations (x/config.proto's
//! `DynamicModuleConfig` in its JSON form) with the core's own parser — the rules Envoy will apply
//! when the configuration arrives — without loading or fetching any module: for CI, before a
//! rollout.
//!
//! A file holds one configuration as a JSON object, or JSON Lines of
//! `{"where": "...", "config": "<the configuration as JSON text>"}` (what
//! `ci/validate-k8s.py --envoyx-configs` extracts from Kubernetes manifests). Each problem is
//! printed with the file (and `where`) and the reason; exit status 1 if any, 2 on a usage error.

use envoyx_core::ModuleConfig;

const USAGE: &str = "usage: envoyx check-config FILE...";

/// One configuration to check, and where it came from.
struct Found {
    place: String,
    text: String,
}

/// The configurations in a file's text.
fn configurations(file: &str, text: &str) -> Result<Vec<Found>, String> {
    let whole: Result<serde_json::Value, _> = serde_json::from_str(text);
    if let Ok(serde_json::Value::Object(fields)) = &whole
        && !fields.contains_key("where")
    {
        return Ok(vec![Found { place: file.to_string(), text: text.to_string() }]);
    }
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let place = format!("{file}:{}", n + 1);
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{place}: not a JSON line: {e}"))?;
        let (Some(text), where_) = (value["config"].as_str(), value["where"].as_str()) else {
            return Err(format!("{place}: expected {{\"where\": ..., \"config\": \"<JSON text>\"}}"));
        };
        let place = where_.map_or(place.clone(), |w| format!("{place} ({w})"));
        found.push(Found { place, text: text.to_string() });
    }
    Ok(found)
}

pub fn run(args: &[String]) -> i32 {
    if args.is_empty() || args.iter().any(|a| a.starts_with('-')) {
        eprintln!("{USAGE}");
        return 2;
    }
    let (mut checked, mut problems) = (0, 0);
    for file in args {
        let found = std::fs::read_to_string(file)
            .map_err(|e| format!("{file}: cannot read: {e}"))
            .and_then(|text| configurations(file, &text));
        let found = match found {
            Ok(found) => found,
            Err(problem) => {
                eprintln!("{problem}");
                problems += 1;
                continue;
            }
        };
        for Found { place, text } in found {
            checked += 1;
            match ModuleConfig::from_json(&text) {
                Ok(config) => println!("ok    {place}: module {}", config.module_source()),
                Err(error) => {
                    println!("FAIL  {place}: {error}");
                    problems += 1;
                }
            }
        }
    }
    println!("{checked} configurations checked, {problems} problems");
    i32::from(problems > 0)
}
