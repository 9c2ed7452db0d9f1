//! What the long runs (`bin/reload.rs`, `bin/churn.rs`) share: how a run ends, and how it
//! reports a set of timings.

use std::time::Duration;

/// `p50 X ms, p90 Y ms, max Z ms` of `times` (sorted here; nearest rank), with `decimals`.
pub fn timings(times: &mut [Duration], decimals: usize) -> String {
    times.sort();
    let at = |p: f64| times[((times.len().max(1) - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    format!("p50 {:.d$} ms, p90 {:.d$} ms, max {:.d$} ms", at(0.5), at(0.9), at(1.0), d = decimals)
}

/// Reads `--flag value` pairs, handing each to `set`, which refuses a flag it does not know.
pub fn flags(args: &[String], mut set: impl FnMut(&str, &str) -> Result<(), String>) -> Result<(), String> {
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value =
            args.next().ok_or_else(|| format!("unknown argument `{flag}`, or {flag} without a value"))?;
        set(flag, value)?;
    }
    Ok(())
}

/// `value` of `flag` as a whole number.
pub fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{flag}: a whole number, not `{value}`"))
}

/// Parses the arguments with `parse` and runs `run`: exit 2 on bad arguments (with `usage`), 1
/// when the run fails or reports problems (each printed, 20 at most), 0 otherwise.
pub fn main<O>(
    name: &str,
    usage: &str,
    parse: impl FnOnce(&[String]) -> Result<O, String>,
    run: impl FnOnce(&O) -> Result<Vec<String>, String>,
) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = parse(&args).unwrap_or_else(|e| {
        eprintln!("{name}: {e}\nusage: {usage}");
        std::process::exit(2);
    });
    let problems = run(&options).unwrap_or_else(|e| vec![e]);
    for problem in problems.iter().take(20) {
        eprintln!("{name}: {problem}");
    }
    std::process::exit(if problems.is_empty() { 0 } else { 1 });
}
