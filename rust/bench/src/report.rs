//! Summaries of repeated samples, the targets, and the markdown report.

use crate::run::Sample;
use crate::stats::{linear_fit, median, spread};
use crate::variants::{Job, Variant, size_label};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The medians (and spread) of one variant doing one job over the rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub rounds: usize,
    pub cpu_us: f64,
    pub cpu_us_min: f64,
    pub cpu_us_max: f64,
    pub processor_cpu_us: Option<f64>,
    pub requests_per_second: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub peak_rss_mib: f64,
    /// Context switches of Envoy's threads per request, median.
    pub context_switches: f64,
    /// The Go variant: the Go runtime's allocations per request, (objects, bytes), medians.
    pub go_allocations: Option<(f64, f64)>,
    pub errors: usize,
    pub first_error: Option<String>,
}

/// Summarises the samples of one cell; `None` if there are none.
pub fn summarise(samples: &[Sample]) -> Option<Summary> {
    let of = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
    let cpu = of(&|s| s.cpu_us_per_request);
    let cpu_us = median(&cpu)?;
    let (cpu_us_min, cpu_us_max) = spread(&cpu)?;
    let processor: Vec<f64> = samples.iter().filter_map(|s| s.processor_cpu_us_per_request).collect();
    Some(Summary {
        rounds: samples.len(),
        cpu_us,
        cpu_us_min,
        cpu_us_max,
        processor_cpu_us: median(&processor),
        requests_per_second: median(&of(&|s| s.requests_per_second))?,
        p50_us: median(&of(&|s| s.p50_us as f64))?,
        p99_us: median(&of(&|s| s.p99_us as f64))?,
        peak_rss_mib: median(&of(&|s| s.peak_rss_kib as f64 / 1024.0))?,
        context_switches: median(&of(&|s| s.context_switches_per_request))?,
        go_allocations: {
            let go: Vec<(f64, f64)> = samples.iter().filter_map(|s| s.go_allocations_per_request).collect();
            median(&go.iter().map(|g| g.0).collect::<Vec<_>>())
                .zip(median(&go.iter().map(|g| g.1).collect::<Vec<_>>()))
        },
        errors: samples.iter().map(|s| s.errors).sum(),
        first_error: samples.iter().find_map(|s| s.first_error.clone()),
    })
}

/// Everything a report is made of.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub title: String,
    /// Lines describing the run (mode, machine, load), shown as a list.
    pub about: Vec<String>,
    pub jobs: Vec<Job>,
    pub variants: Vec<Variant>,
    pub cells: BTreeMap<(Job, Variant), Summary>,
    /// Body bytes the EnvoyX path copied inside Envoy, by body size (the core's per-stream
    /// counter, as the stock host logs it).
    pub bytes_copied: Vec<crate::zerocopy::Copied>,
    /// Free text appended at the end.
    pub notes: Vec<String>,
    /// Instructions per request under callgrind (user space, all Envoy threads), by job and
    /// variant.
    pub instructions: Vec<(Job, Variant, f64)>,
    /// The Envoy module callbacks that ran while EnvoyX did this transform job under callgrind.
    pub envoyx_body_callbacks: Option<(Job, Vec<String>)>,
    /// What one call across cgo costs (the Go variant's report section).
    pub go_crossings: Option<crate::go::Crossings>,
}

/// A target and how the run did against it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    pub figure: String,
    /// `None`: not measured in this run.
    pub pass: Option<bool>,
}

impl Results {
    fn cpu(&self, job: Job, variant: Variant) -> Option<f64> {
        self.cells.get(&(job, variant)).map(|s| s.cpu_us)
    }

    /// The targets of issue 5, judged on Envoy's CPU-µs per request (medians).
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        let ratio_target = |name: &str, a: Option<f64>, b: Option<f64>, limit: f64, at_most: bool| {
            let (figure, pass) = match (a, b) {
                (Some(a), Some(b)) if b > 0.0 && a > 0.0 => {
                    let r = a / b;
                    (
                        format!("{r:.2}× ({a:.1} vs {b:.1} µs)"),
                        Some(if at_most { r <= limit } else { r >= limit }),
                    )
                }
                _ => ("not measured".to_string(), None),
            };
            Target { name: name.to_string(), figure, pass }
        };
        let envoyx_header = self.cpu(Job::Header, Variant::EnvoyX);
        targets.push(ratio_target(
            "header-add CPU/req ≤ 1.05× C module",
            envoyx_header,
            self.cpu(Job::Header, Variant::CModule),
            1.05,
            true,
        ));
        targets.push(ratio_target(
            "header-add CPU/req ≤ 1.10× no filter",
            envoyx_header,
            self.cpu(Job::Header, Variant::NoFilter),
            1.10,
            true,
        ));
        let mib = Job::Upper(1 << 20);
        let envoyx_mib = self.cpu(mib, Variant::EnvoyX);
        let none_mib = self.cpu(mib, Variant::NoFilter);
        for (variant, limit) in [(Variant::Lua, 3.0), (Variant::Wasm, 3.0), (Variant::ExtProc, 10.0)] {
            let theirs = self.cpu(mib, variant);
            let mut target = ratio_target(
                &format!("1 MiB transform ≥ {limit}× faster than {} (their CPU / ours)", variant.name()),
                theirs,
                envoyx_mib,
                limit,
                false,
            );
            // Most of a 1 MiB request's cost is Envoy moving the bytes, the same with no filter:
            // the cost each filter adds on top of that is shown too (not judged).
            if let (Some(theirs), Some(ours), Some(none)) = (theirs, envoyx_mib, none_mib) {
                let (theirs, ours) = (theirs - none, ours - none);
                let ratio = if ours > 0.0 {
                    format!("{:.1}×", theirs / ours)
                } else {
                    "∞ (ours adds nothing measurable)".to_string()
                };
                target.figure += &format!("; added over no filter: {ratio} ({theirs:.1} vs {ours:.1} µs)");
            }
            targets.push(target);
        }
        targets.push(self.linearity());
        let copied: u64 = self.bytes_copied.iter().map(|c| c.bytes).sum();
        let streams: usize = self.bytes_copied.iter().map(|c| c.streams).sum();
        let mut figure = if self.bytes_copied.is_empty() {
            "not measured".to_string()
        } else {
            let sizes: Vec<String> = self
                .bytes_copied
                .iter()
                .map(|c| format!("{}: {} over {} streams", size_label(c.size), c.bytes, c.streams))
                .collect();
            format!(
                "core counter inside Envoy (stock host's debug log): {copied} bytes over {streams} streams ({})",
                sizes.join(", ")
            )
        };
        // Every size must have reported: a run without a single stream proves nothing.
        let mut pass = (!self.bytes_copied.is_empty())
            .then(|| copied == 0 && self.bytes_copied.iter().all(|c| c.streams > 0));
        // Inside Envoy: the stock host copies body bytes only through Envoy's append_body
        // (prepend and replace are drain + append), so it must never have run.
        if let Some((job, callbacks)) = &self.envoyx_body_callbacks {
            let appended = callbacks.iter().any(|c| c.ends_with("_append_body"));
            let body: Vec<&str> = callbacks
                .iter()
                .filter(|c| c.contains("body"))
                .map(|c| c.trim_start_matches("envoy_dynamic_module_callback_"))
                .collect();
            figure += &format!(
                "; inside Envoy ({job}, callgrind): body callbacks run: {}; append_body {}",
                if body.is_empty() { "none".to_string() } else { body.join(", ") },
                if appended { "RAN" } else { "never ran" }
            );
            pass = Some(pass.unwrap_or(true) && !appended);
        }
        targets.push(Target { name: "0 body bytes copied by the EnvoyX path".to_string(), figure, pass });
        // The auth decision: Envoy's CPU, the service's not counted (it is the same service).
        let envoyx_auth = self.cpu(Job::Auth, Variant::EnvoyX);
        targets.push(ratio_target(
            "auth decision ≥ 2× cheaper in Envoy CPU than ext_authz (theirs / ours)",
            self.cpu(Job::Auth, Variant::ExtAuthz),
            envoyx_auth,
            2.0,
            false,
        ));
        targets.push(ratio_target(
            "auth decision cheaper in Envoy CPU than Lua httpCall (theirs / ours)",
            self.cpu(Job::Auth, Variant::Lua),
            envoyx_auth,
            1.0,
            false,
        ));
        targets
    }

    /// Cost linear in body size: a line through EnvoyX's CPU/req against size fits (R² ≥ 0.99),
    /// and the cost per extra MiB between the two largest steps agrees within 1.5×.
    fn linearity(&self) -> Target {
        let name = "EnvoyX transform cost linear in body size".to_string();
        let points = |variant: Variant| -> Vec<(f64, f64)> {
            let mut points: Vec<(f64, f64)> = self
                .jobs
                .iter()
                .filter_map(|job| match job {
                    Job::Upper(size) => Some((*size as f64 / (1 << 20) as f64, self.cpu(*job, variant)?)),
                    _ => None,
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            points
        };
        // The cost per extra MiB over the two largest steps.
        let marginal = |p: &[(f64, f64)]| -> Option<(f64, f64)> {
            let n = p.len();
            let slope = |i: usize| (p[i + 1].1 - p[i].1) / (p[i + 1].0 - p[i].0);
            (n >= 3).then(|| (slope(n - 3), slope(n - 2)))
        };
        let ours = points(Variant::EnvoyX);
        let (Some((a, b, r2)), Some((s1, s2))) = (linear_fit(&ours), marginal(&ours)) else {
            return Target { name, figure: "not measured (needs 3 body sizes)".to_string(), pass: None };
        };
        let mut figure = format!(
            "{a:.1} µs + {b:.0} µs/MiB, R² = {r2:.4}; cost per extra MiB over the two largest steps: {s1:.0} then \
             {s2:.0} µs"
        );
        // Envoy's own cost per MiB (no filter) grows with the body too; the EnvoyX path is judged
        // linear when its growth is within 1.5× of that (and within 1.5× outright without a
        // no-filter measurement).
        let growth = s2 / s1;
        let envoy_growth = match marginal(&points(Variant::NoFilter)) {
            Some((n1, n2)) if n1 > 0.0 && n2 > 0.0 => {
                figure += &format!(" (no filter: {n1:.0} then {n2:.0} µs)");
                n2 / n1
            }
            _ => 1.0,
        };
        let ratio = growth / envoy_growth;
        let pass = r2 >= 0.99 && s1 > 0.0 && s2 > 0.0 && ratio.max(1.0 / ratio) <= 1.5;
        figure += "; pass: R² ≥ 0.99 and growth per MiB within 1.5× of no filter's";
        Target { name, figure, pass: Some(pass) }
    }

    /// The report in markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", self.title);
        for line in &self.about {
            let _ = writeln!(out, "- {line}");
        }
        let _ = writeln!(out, "\n## Targets\n");
        let _ = writeln!(out, "| target | figure | result |\n|---|---|---|");
        for t in self.targets() {
            let result = match t.pass {
                Some(true) => "**pass**",
                Some(false) => "**miss**",
                None => "—",
            };
            let _ = writeln!(out, "| {} | {} | {result} |", t.name, t.figure);
        }
        let _ = writeln!(
            out,
            "\n## Results\n\nEnvoy CPU-µs/req is the median over the rounds (min–max in brackets); the ratios \
             divide it by the same job's no-filter and C-module medians. req/s, p50, p99 and peak RSS are \
             medians too; errors are summed over all rounds (warm-up included)."
        );
        for job in &self.jobs {
            let _ = writeln!(out, "\n### {job}\n");
            let _ = writeln!(
                out,
                "| variant | Envoy CPU-µs/req | × no filter | × C module | ctx switches/req | req/s | p50 µs | p99 µs | peak RSS MiB | errors |\n\
                 |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            let none = self.cpu(*job, Variant::NoFilter);
            let c = self.cpu(*job, Variant::CModule);
            for variant in &self.variants {
                let Some(s) = self.cells.get(&(*job, *variant)) else {
                    let why =
                        variant.does(*job).err().map_or("not measured".to_string(), |r| format!("n/a: {r}"));
                    let _ = writeln!(out, "| {} | {why} | | | | | | | | |", variant.name());
                    continue;
                };
                let ratio = |base: Option<f64>| match base {
                    Some(b) if b > 0.0 => format!("{:.2}", s.cpu_us / b),
                    _ => "—".to_string(),
                };
                let mut cpu = format!("{:.1} ({:.1}–{:.1})", s.cpu_us, s.cpu_us_min, s.cpu_us_max);
                if let Some(p) = s.processor_cpu_us {
                    let _ = write!(cpu, " + {p:.1} in the processor");
                }
                let _ = writeln!(
                    out,
                    "| {} | {cpu} | {} | {} | {:.2} | {:.0} | {:.0} | {:.0} | {:.1} | {} |",
                    variant.name(),
                    ratio(none),
                    ratio(c),
                    s.context_switches,
                    s.requests_per_second,
                    s.p50_us,
                    s.p99_us,
                    s.peak_rss_mib,
                    s.errors
                );
            }
            let errors: Vec<String> = self
                .variants
                .iter()
                .filter_map(|v| {
                    let s = self.cells.get(&(*job, *v))?;
                    Some(format!("{}: {}", v.name(), s.first_error.clone()?))
                })
                .collect();
            for error in errors {
                let _ = writeln!(out, "\nFirst error — {error}");
            }
        }
        self.write_go_section(&mut out);
        if !self.instructions.is_empty() {
            let _ = writeln!(
                out,
                "\n## Instructions per request (callgrind)\n\nEnvoy under valgrind's callgrind, one connection, \
                 counters zeroed after a warm-up: the user-space instructions all of Envoy's threads executed per \
                 request. Deterministic, so it shows differences the CPU times above are too noisy for; it does not \
                 count the kernel (socket copies), which dominates large bodies' CPU time.\n"
            );
            let _ = writeln!(
                out,
                "| job | variant | instructions/req | × no filter | × C module |\n|---|---|---:|---:|---:|"
            );
            let find = |job: Job, variant: Variant| {
                self.instructions.iter().find(|(j, v, _)| *j == job && *v == variant).map(|(_, _, n)| *n)
            };
            for (job, variant, n) in &self.instructions {
                let ratio = |base: Option<f64>| {
                    base.filter(|b| *b > 0.0).map_or("—".to_string(), |b| format!("{:.3}", n / b))
                };
                let _ = writeln!(
                    out,
                    "| {job} | {} | {n:.0} | {} | {} |",
                    variant.name(),
                    ratio(find(*job, Variant::NoFilter)),
                    ratio(find(*job, Variant::CModule))
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## Notes\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    /// The Go variant's own figures: Go's allocations per request in Envoy, and the cost of a
    /// call across cgo. Nothing when the run measured no Go.
    fn write_go_section(&self, out: &mut String) {
        let rows: Vec<(Job, (f64, f64))> = self
            .jobs
            .iter()
            .filter_map(|job| Some((*job, self.cells.get(&(*job, Variant::Go))?.go_allocations?)))
            .collect();
        if rows.is_empty() && self.go_crossings.is_none() {
            return;
        }
        let _ = writeln!(
            out,
            "\n## Go: allocations per request and the cost of crossing cgo\n\nAllocations: what the Go \
             runtime inside Envoy allocated during the timed requests (the SDK and the module together; \
             read from the runtime by the Go module on a listener of its own, so nothing is added to the \
             measured path), divided by the requests.\n"
        );
        if !rows.is_empty() {
            let _ = writeln!(out, "| job | Go objects/req | Go bytes/req |\n|---|---:|---:|");
            for (job, (objects, bytes)) in rows {
                let _ = writeln!(out, "| {job} | {objects:.1} | {bytes:.0} |");
            }
        }
        if let Some(c) = self.go_crossings {
            let _ = writeln!(
                out,
                "\nOne call across cgo (`go test -bench Call` in go/bench): Go→C {:.1} ns (a module calling \
                 a host function), C→Go {:.1} ns (the host calling a module's hook). A GET through the header \
                 job crosses C→Go five times (stream new, request headers, response headers, complete, \
                 destroy) and Go→C once (the header add).",
                c.go_to_c_ns, c.c_to_go_ns
            );
        }
    }

    /// Total errors over every cell.
    pub fn errors(&self) -> usize {
        self.cells.values().map(|s| s.errors).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zerocopy::Copied;

    fn sample(cpu: f64) -> Sample {
        Sample {
            requests: 100,
            cpu_us_per_request: cpu,
            requests_per_second: 1000.0 / cpu,
            p50_us: cpu as u64,
            p99_us: 2 * cpu as u64,
            peak_rss_kib: 51200,
            context_switches_per_request: 0.5,
            ..Sample::default()
        }
    }

    /// What 20 streams of one body size reported.
    fn copied(size: usize, bytes: u64) -> Copied {
        Copied { size, streams: 20, bytes }
    }

    fn cell(cpu: f64) -> Summary {
        summarise(&[sample(cpu)]).unwrap()
    }

    #[test]
    fn summarises_medians_spread_and_errors() {
        let mut bad = sample(30.0);
        bad.errors = 2;
        bad.first_error = Some("status 500".into());
        let s = summarise(&[sample(10.0), bad, sample(20.0)]).unwrap();
        assert_eq!((s.rounds, s.cpu_us, s.cpu_us_min, s.cpu_us_max), (3, 20.0, 10.0, 30.0));
        assert_eq!((s.p50_us, s.p99_us, s.peak_rss_mib), (20.0, 40.0, 50.0));
        assert_eq!((s.errors, s.first_error.as_deref()), (2, Some("status 500")));
        assert_eq!(s.processor_cpu_us, None);
        assert!(summarise(&[]).is_none());
    }

    fn results() -> Results {
        let jobs = vec![Job::Header, Job::Upper(1 << 10), Job::Upper(1 << 20), Job::Upper(16 << 20)];
        let mut cells = BTreeMap::new();
        for (variant, header) in
            [(Variant::NoFilter, 40.0), (Variant::EnvoyX, 42.0), (Variant::CModule, 41.0)]
        {
            cells.insert((Job::Header, variant), cell(header));
        }
        // EnvoyX: 50 µs + 100 µs per MiB.
        for (job, mib) in [(jobs[1], 1.0 / 1024.0), (jobs[2], 1.0), (jobs[3], 16.0)] {
            cells.insert((job, Variant::EnvoyX), cell(50.0 + 100.0 * mib));
        }
        cells.insert((jobs[2], Variant::NoFilter), cell(50.0));
        cells.insert((jobs[2], Variant::Lua), cell(600.0));
        cells.insert((jobs[2], Variant::Wasm), cell(400.0));
        cells.insert((jobs[2], Variant::ExtProc), cell(3000.0));
        Results {
            title: "t".into(),
            jobs,
            variants: vec![Variant::NoFilter, Variant::EnvoyX, Variant::CModule],
            cells,
            bytes_copied: vec![copied(1 << 20, 0)],
            ..Results::default()
        }
    }

    #[test]
    fn judges_each_target() {
        let targets = results().targets();
        let pass: Vec<Option<bool>> = targets.iter().map(|t| t.pass).collect();
        // 42/41 ≤ 1.05; 42/40 ≤ 1.10; Lua 600/150 = 4 ≥ 3; Wasm 400/150 < 3; ext_proc 20 ≥ 10;
        // linear; nothing copied.
        assert_eq!(
            pass,
            vec![
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(true),
                None,
                None
            ]
        );
        assert!(targets[0].figure.starts_with("1.02×"), "{}", targets[0].figure);
        assert!(targets[5].figure.contains("100 µs/MiB"), "{}", targets[5].figure);
    }

    #[test]
    fn judges_the_auth_targets() {
        let mut r = results();
        for (variant, cpu) in [(Variant::EnvoyX, 50.0), (Variant::ExtAuthz, 90.0), (Variant::Lua, 60.0)] {
            r.cells.insert((Job::Auth, variant), cell(cpu));
        }
        let targets = r.targets();
        // ext_authz 90/50 = 1.8 < 2: missed; Lua 60/50 ≥ 1: met.
        assert_eq!((targets[7].pass, targets[8].pass), (Some(false), Some(true)));
        assert!(targets[7].figure.starts_with("1.80×"), "{}", targets[7].figure);
        assert_eq!(Variant::Wasm.does(Job::Auth).map_err(|r| r.contains("wasm32")), Err(true));
        assert!(Variant::ExtAuthz.does(Job::Header).is_err() && Variant::ExtAuthz.does(Job::Auth).is_ok());
    }

    #[test]
    fn a_missing_cell_or_a_copy_is_reported_not_passed() {
        let mut r = results();
        r.cells.remove(&(Job::Header, Variant::CModule));
        r.bytes_copied = vec![copied(1024, 0), copied(1 << 20, 4096)];
        let targets = r.targets();
        assert_eq!((targets[0].pass, targets[0].figure.as_str()), (None, "not measured"));
        assert_eq!(targets[6].pass, Some(false));
        assert!(targets[6].figure.contains("1 MiB: 4096 over 20 streams"), "{}", targets[6].figure);
        // No stream reported: not a pass.
        r.bytes_copied = vec![Copied { size: 1024, streams: 0, bytes: 0 }];
        assert_eq!(r.targets()[6].pass, Some(false));
        r.bytes_copied = vec![copied(1024, 0)];
        let callbacks =
            |names: &[&str]| names.iter().map(|n| format!("envoy_dynamic_module_callback_{n}")).collect();
        r.envoyx_body_callbacks = Some((Job::Upper(1 << 20), callbacks(&["http_get_body_chunks", "log"])));
        let copy = &r.targets()[6];
        assert_eq!(copy.pass, Some(true), "{}", copy.figure);
        assert!(
            copy.figure.ends_with("body callbacks run: http_get_body_chunks; append_body never ran"),
            "{}",
            copy.figure
        );
        r.envoyx_body_callbacks =
            Some((Job::Upper(1 << 20), callbacks(&["http_append_body", "http_drain_body"])));
        assert_eq!(r.targets()[6].pass, Some(false));
        r.cells.insert((Job::Upper(16 << 20), Variant::EnvoyX), cell(50.0 + 100.0 * 16.0 * 3.0));
        assert_eq!(r.targets()[5].pass, Some(false), "a cost tripling past 1 MiB is not linear");
        // ... unless Envoy's own cost (no filter) grows the same way.
        for (size, cost) in [(1 << 10, 40.0), (1 << 20, 100.0), (16 << 20, 100.0 + 60.0 * 15.0 * 3.0)] {
            r.cells.insert((Job::Upper(size), Variant::NoFilter), cell(cost));
        }
        let linear = &r.targets()[5];
        assert_eq!(linear.pass, Some(true), "{}", linear.figure);
        assert!(linear.figure.contains("(no filter: 60 then 180 µs)"), "{}", linear.figure);
    }

    #[test]
    fn renders_tables_with_ratios_and_errors() {
        let mut r = results();
        r.cells.get_mut(&(Job::Header, Variant::EnvoyX)).unwrap().first_error = Some("status 503".into());
        let md = r.markdown();
        assert!(md.starts_with("# t\n"), "{md}");
        assert!(
            md.contains("| header-add CPU/req ≤ 1.05× C module | 1.02× (42.0 vs 41.0 µs) | **pass** |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 MiB transform ≥ 3× faster than Proxy-Wasm (V8) (their CPU / ours) | 2.67×"),
            "{md}"
        );
        // Wasm adds 400 - 50 µs over no filter, EnvoyX 150 - 50.
        assert!(
            md.contains("2.67× (400.0 vs 150.0 µs); added over no filter: 3.5× (350.0 vs 100.0 µs)"),
            "{md}"
        );
        assert!(md.contains("**miss**"));
        assert!(md.contains("### add one response header"));
        assert!(
            md.contains(
                "| EnvoyX (stock host) | 42.0 (42.0–42.0) | 1.05 | 1.02 | 0.50 | 24 | 42 | 84 | 50.0 | 0 |"
            ),
            "{md}"
        );
        assert!(md.contains("| C module (upstream ABI) | not measured |"), "{md}");
        assert!(md.contains("First error — EnvoyX (stock host): status 503"), "{md}");
        assert!(!md.contains("callgrind"));
        r.instructions = vec![
            (Job::Header, Variant::NoFilter, 100_000.0),
            (Job::Header, Variant::EnvoyX, 106_000.0),
            (Job::Header, Variant::CModule, 104_000.0),
        ];
        let md = r.markdown();
        assert!(
            md.contains("| add one response header | EnvoyX (stock host) | 106000 | 1.060 | 1.019 |"),
            "{md}"
        );
    }
}
