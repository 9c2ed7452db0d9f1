//! `cargo run --release -p envoyx-bench -- full|quick [--out DIR]`
//!
//! `full`: every variant and job, body sizes 1 KiB to 16 MiB, 3 interleaved rounds; writes
//! `bench/results/<date>-envoy-1.40.0.md` and `.svg`. `quick`: one round, one body size (64 KiB)
//! and fewer requests, to prove the harness end to end (CI); writes into the target directory.
//! Either exits 1 if a measurement failed or a request went wrong (e.g. the upstream saw a wrong
//! byte).

use envoyx_bench::cpu_limit::CpuLimit;
use envoyx_bench::report::{Results, summarise};
use envoyx_bench::run::{self, ENVOY_VERSION, Sample, Setup};
use envoyx_bench::upstream::CheckingUpstream;
use envoyx_bench::variants::{Job, Variant};
use envoyx_bench::{build, plot, procfs, zerocopy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// How much to measure.
#[derive(Debug)]
struct Plan {
    mode: &'static str,
    rounds: usize,
    jobs: Vec<Job>,
    variants: Vec<Variant>,
    connections: usize,
    /// Multiplies the request counts.
    scale: f64,
    /// Lines added to the report's description of the run (`--note`).
    notes: Vec<String>,
    /// `--envoy-cpu-limit N`: Envoy in a cgroup with an N-CPU quota instead of pinned to one CPU.
    envoy_cpu_limit: Option<f64>,
    /// `--rate R`: the timed requests paced at R per second instead of as fast as Envoy answers.
    rate: Option<f64>,
}

impl Plan {
    fn full() -> Self {
        let sizes = [1 << 10, 64 << 10, 1 << 20, 16 << 20];
        let mut jobs = vec![Job::Header, Job::Pass];
        jobs.extend(sizes.map(Job::Upper));
        jobs.push(Job::Auth);
        jobs.push(Job::Observe);
        jobs.push(Job::Respond);
        Plan {
            mode: "full",
            rounds: 5,
            jobs,
            variants: Variant::ALL.to_vec(),
            connections: 4,
            scale: 1.0,
            notes: Vec::new(),
            envoy_cpu_limit: None,
            rate: None,
        }
    }

    fn quick() -> Self {
        Plan {
            mode: "quick",
            rounds: 1,
            jobs: vec![Job::Header, Job::Pass, Job::Upper(64 << 10), Job::Auth, Job::Observe, Job::Respond],
            variants: Variant::ALL.to_vec(),
            connections: 4,
            scale: 1.0,
            notes: Vec::new(),
            envoy_cpu_limit: None,
            rate: None,
        }
    }

    /// Instructions per request under callgrind, EnvoyX against the C module and no filter.
    fn profile() -> Self {
        Plan {
            mode: "profile",
            rounds: 1,
            jobs: vec![Job::Header, Job::Pass, Job::Upper(64 << 10), Job::Observe, Job::Respond],
            variants: vec![Variant::NoFilter, Variant::EnvoyX, Variant::Go, Variant::CModule],
            connections: 1,
            scale: 1.0,
            notes: Vec::new(),
            envoy_cpu_limit: None,
            rate: None,
        }
    }

    /// (warm-up, timed) requests per measurement: enough for ~0.5–2 s of Envoy CPU in `full`
    /// (CPU time is counted in 10 ms ticks), a fraction of a second in `quick`.
    fn requests(&self, job: Job) -> (usize, usize) {
        let timed = match job {
            Job::Header | Job::Pass | Job::Observe | Job::Respond => 20_000,
            Job::Auth => 10_000,
            Job::Upper(size) if size <= 1 << 10 => 20_000,
            Job::Upper(size) if size <= 64 << 10 => 20_000,
            Job::Upper(size) if size <= 1 << 20 => 2_500,
            Job::Upper(_) => 100,
        };
        let timed = match self.mode {
            "quick" => timed / 10,
            "profile" => timed / 40, // valgrind runs Envoy ~50 times slower
            _ => timed,
        };
        let timed = ((timed as f64 * self.scale) as usize).max(1);
        (timed / 10, timed)
    }
}

fn today() -> String {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // `YYYY-MM-DD hh:mm:ss UTC`: the date is the first ten characters.
    envoyx_core::log::utc_time(secs as i64)[..10].to_string()
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpus} CPUs ({model}), Linux {}", kernel.trim())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

const USAGE: &str = "usage: envoyx-bench full|quick|profile [--out DIR] [--rounds N] [--jobs header,pass,auth,observe,respond,1KiB,64KiB,1MiB,16MiB] \
                     [--variants none,envoyx,go,go-loop,c,lua,wasm,ext_proc,ext_authz] [--scale X] [--envoy-cpu-limit CPUS] [--rate REQ_PER_S] [--note TEXT]...\n       \
                     envoyx-bench auth-server   (the auth job's service; prints `listening on 127.0.0.1:PORT`)";

/// Parses the command line: a mode, then options that narrow it (for development and profiling).
fn parse_args(args: &[String]) -> Result<(Plan, Option<PathBuf>), String> {
    let mut plan = match args.first().map(String::as_str) {
        Some("full") => Plan::full(),
        Some("quick") => Plan::quick(),
        Some("profile") => Plan::profile(),
        _ => return Err(USAGE.to_string()),
    };
    let mut out = None;
    let mut rest = args[1..].iter();
    while let Some(option) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{option} needs a value\n{USAGE}"))?;
        match option.as_str() {
            "--out" => out = Some(PathBuf::from(value)),
            "--note" => plan.notes.push(value.clone()),
            "--rounds" => plan.rounds = value.parse().map_err(|_| format!("--rounds {value:?}"))?,
            "--scale" => plan.scale = value.parse().map_err(|_| format!("--scale {value:?}"))?,
            "--envoy-cpu-limit" => {
                plan.envoy_cpu_limit = Some(
                    value.parse().map_err(|_| format!("--envoy-cpu-limit {value:?}: a number of CPUs"))?,
                )
            }
            "--rate" => {
                let rate: f64 =
                    value.parse().map_err(|_| format!("--rate {value:?}: requests per second"))?;
                if !rate.is_finite() || rate <= 0.0 {
                    return Err(format!("--rate {value:?}: must be above 0"));
                }
                plan.rate = Some(rate);
            }
            "--jobs" => {
                plan.jobs = value
                    .split(',')
                    .map(|j| match j {
                        "header" => Ok(Job::Header),
                        "pass" => Ok(Job::Pass),
                        "auth" => Ok(Job::Auth),
                        "observe" => Ok(Job::Observe),
                        "respond" => Ok(Job::Respond),
                        _ => {
                            parse_size(j).map(Job::Upper).ok_or_else(|| format!("unknown job {j:?}\n{USAGE}"))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "--variants" => {
                plan.variants = value
                    .split(',')
                    .map(|v| {
                        Variant::ALL
                            .into_iter()
                            .find(|x| x.short() == v)
                            .ok_or_else(|| format!("unknown variant {v:?}"))
                    })
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    Ok((plan, out))
}

/// `1KiB`, `64KiB`, `1MiB`, `16MiB` or a byte count.
fn parse_size(text: &str) -> Option<usize> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let number: usize = number.parse().ok()?;
    match unit {
        "" => Some(number),
        "KiB" => Some(number << 10),
        "MiB" => Some(number << 20),
        _ => None,
    }
}

/// `envoyx-bench auth-server`: the auth job's service in a process of its own (its CPU is
/// measured apart), until killed.
fn auth_server() -> ! {
    use std::io::Write;
    let server = envoyx_harness::AuthServer::start().unwrap_or_else(|e| {
        eprintln!("auth-server: {e}");
        std::process::exit(1)
    });
    println!("listening on 127.0.0.1:{}", server.port);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("auth-server") {
        auth_server();
    }
    let (plan, out) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let out_dir = match out {
        Some(dir) => dir,
        None if plan.mode == "full" => repo_root().join("bench/results"),
        None => std::env::current_exe()
            .expect("own path")
            .parent()
            .expect("target dir")
            .join(format!("envoyx-bench-{}", plan.mode)),
    };
    let outcome = if plan.mode == "profile" { profile(&plan, &out_dir) } else { bench(&plan, &out_dir) };
    if let Err(e) = outcome {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

fn bench(plan: &Plan, out_dir: &Path) -> Result<(), String> {
    eprintln!("bench: {} mode; installing Envoy {ENVOY_VERSION} if it is not cached", plan.mode);
    let envoy =
        envoyx_harness::envoy_path(ENVOY_VERSION).map_err(|e| format!("Envoy {ENVOY_VERSION}: {e}"))?;
    let build_dir = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("envoyx-bench-build");
    let artifacts = build::all(&build_dir)?;

    let sizes: Vec<usize> =
        plan.jobs.iter().filter_map(|j| if let Job::Upper(s) = j { Some(*s) } else { None }).collect();

    let machine = machine(); // before pinning narrows what this process sees
    // Envoy on one CPU (or under a CPU limit), this process (client, upstream, ext_proc server)
    // on another.
    let cpus = procfs::allowed_cpus();
    let cpu_limit =
        plan.envoy_cpu_limit.map(|cpus| CpuLimit::create(cpus, &envoy, &build_dir)).transpose()?;
    let (envoy_cpu, mut pinning) = if cpus.len() >= 2 {
        procfs::pin_process(std::process::id(), cpus[1]).map_err(|e| format!("pinning the client: {e}"))?;
        let client = format!("client, upstream and ext_proc server pinned to CPU {}", cpus[1]);
        match &cpu_limit {
            Some(limit) => (None, format!("{}; {client}", limit.describe())),
            None => (Some(cpus[0]), format!("Envoy pinned to CPU {}; {client}", cpus[0])),
        }
    } else {
        (None, "only one CPU allowed: nothing pinned".to_string())
    };
    if let Some(rate) = plan.rate {
        pinning.push_str(&format!(
            ". Timed requests paced at {rate} per second over the {} connections (not saturating)",
            plan.connections
        ));
    }
    let upstream =
        CheckingUpstream::start(sizes.iter().copied().max().unwrap_or(0)).map_err(|e| e.to_string())?;
    let setup = Setup {
        envoy,
        artifacts,
        upstream_port: upstream.port,
        envoy_cpu,
        connections: plan.connections,
        launcher: cpu_limit.as_ref().map(|l| l.binary().to_path_buf()),
        rate: plan.rate,
    };
    let zero_copy_requests = if plan.mode == "full" { 20 } else { 5 };
    eprintln!(
        "bench: counting body bytes the EnvoyX path copies inside Envoy ({zero_copy_requests} requests per size; \
         the stock host's per-stream counter at debug level)"
    );
    let bytes_copied = zerocopy::bytes_copied(&setup, &sizes, zero_copy_requests)?;

    let mut samples: BTreeMap<(Job, Variant), Vec<Sample>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut bodies = Vec::new();
    for round in 0..plan.rounds {
        for job in &plan.jobs {
            let (warmup, timed) = plan.requests(*job);
            // Interleaved: each round starts the variants at a different one.
            let mut order = plan.variants.clone();
            let start = round % order.len();
            order.rotate_left(start);
            for variant in order {
                if let Err(why) = variant.does(*job) {
                    if round == 0 {
                        eprintln!("bench: {job} / {}: not run: {why}", variant.name());
                    }
                    continue;
                }
                let spec = run::request_for(*job, variant, &mut bodies);
                match run::measure(&setup, variant, *job, &spec, warmup, timed) {
                    Ok(sample) => {
                        eprintln!(
                            "bench: round {}/{} {job} / {}: {:.1} Envoy CPU-µs/req, {:.0} req/s, p99 {} µs, {} errors",
                            round + 1,
                            plan.rounds,
                            variant.name(),
                            sample.cpu_us_per_request,
                            sample.requests_per_second,
                            sample.p99_us,
                            sample.errors
                        );
                        samples.entry((*job, variant)).or_default().push(sample);
                    }
                    Err(e) => {
                        eprintln!("bench: round {} {job} / {}: FAILED: {e}", round + 1, variant.name());
                        failures.push(format!(
                            "round {} {job} / {}: {}",
                            round + 1,
                            variant.name(),
                            e.lines().next().unwrap_or("")
                        ));
                    }
                }
            }
        }
    }
    // Full mode also counts instructions per request under callgrind for the variants the header
    // targets compare: deterministic where the CPU times above are noisy.
    let mut instructions = Vec::new();
    let mut envoyx_body_callbacks = None;
    if plan.mode == "full" && ensure_valgrind() {
        let mut profile_plan = Plan::profile();
        // The jobs of this run among those the counts compare (a narrowed run counts fewer).
        profile_plan.jobs = [Job::Header, Job::Pass, Job::Upper(1 << 20), Job::Respond]
            .into_iter()
            .filter(|j| plan.jobs.contains(j))
            .collect();
        // The baselines always; the Go module when this run has it.
        profile_plan.variants.retain(|v| *v != Variant::Go || plan.variants.contains(&Variant::Go));
        let dump_dir =
            std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("envoyx-bench-callgrind");
        match instruction_counts(&profile_plan, &setup, &dump_dir) {
            Ok((counts, failed)) => {
                failures.extend(failed.into_iter().map(|f| format!("callgrind: {f}")));
                envoyx_body_callbacks = counts
                    .iter()
                    .find(|(job, variant, _)| matches!(job, Job::Upper(_)) && *variant == Variant::EnvoyX)
                    .map(|(job, _, profile)| (*job, profile.callbacks.clone()));
                instructions =
                    counts.into_iter().map(|(j, v, p)| (j, v, p.instructions_per_request)).collect();
            }
            Err(e) => failures.push(format!("callgrind: {e}")),
        }
    }
    drop(upstream);
    // The Go variant's crossing costs: a million calls each way (a fraction of a second).
    let go_crossings = if plan.variants.contains(&Variant::Go) {
        match envoyx_bench::go::crossings(1_000_000) {
            Ok(c) => Some(c),
            Err(e) => {
                failures.push(format!("go crossings: {}", e.lines().next().unwrap_or("")));
                None
            }
        }
    } else {
        None
    };

    let date = today();
    let mut results = Results {
        title: format!("EnvoyX benchmarks: Envoy {ENVOY_VERSION}, {date} ({} mode)", plan.mode),
        about: vec![
            format!("Official Envoy {ENVOY_VERSION}, `--concurrency 1`; a fresh Envoy per measurement, same listener, route and upstream for every variant."),
            format!("Machine: {machine}. {pinning}."),
            format!(
                "{} round(s); in each, every job runs every variant, starting at a different variant each round; {} keep-alive HTTP/1.1 connections from a Rust client.",
                plan.rounds, plan.connections
            ),
            format!(
                "Requests per measurement (after warm-up of a tenth as many): {}.",
                plan.jobs.iter().map(|j| format!("{j}: {}", plan.requests(*j).1)).collect::<Vec<_>>().join("; ")
            ),
            "Envoy CPU = utime + stime of the Envoy process (all threads) from /proc/<pid>/stat, counted in clock ticks, over the timed requests only; peak RSS = VmHWM at the end.".to_string(),
            "The upstream checks every byte of every request body (upper-cased by the filter; unchanged with no filter); a wrong byte is a 500 the client counts as an error. The header job checks every reply carries the added header; the respond job checks every byte of every reply's 64 KiB body and, for the variants that stream it, that it came in 16 chunks.".to_string(),
        ],
        jobs: plan.jobs.clone(),
        variants: plan.variants.clone(),
        cells: samples.iter().filter_map(|(k, v)| Some((*k, summarise(v)?))).collect(),
        bytes_copied,
        notes: method_notes().into_iter().chain(failures.iter().map(|f| format!("FAILED: {f}"))).collect(),
        instructions,
        envoyx_body_callbacks,
        go_crossings,
    };
    results.about.extend(plan.notes.iter().cloned());
    if let Some(limit) = &cpu_limit {
        results.about.push(match limit.times_throttled() {
            Ok(n) => {
                format!("Over the whole run the kernel throttled Envoy's cgroup {n} times (its quota spent).")
            }
            Err(e) => format!("The cgroup's throttling count could not be read: {e}."),
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let stem = format!("{date}-envoy-{ENVOY_VERSION}");
    let (md, svg) = (out_dir.join(format!("{stem}.md")), out_dir.join(format!("{stem}.svg")));
    std::fs::write(&md, results.markdown()).map_err(|e| format!("{}: {e}", md.display()))?;
    let json = out_dir.join(format!("{stem}.samples.json"));
    let text = serde_json::to_string_pretty(&samples_json(&samples)).map_err(|e| e.to_string())?;
    std::fs::write(&json, text + "\n").map_err(|e| format!("{}: {e}", json.display()))?;
    plot::svg(&results, &svg)?;
    eprintln!("bench: wrote {}, {} and {}", md.display(), svg.display(), json.display());
    for t in results.targets() {
        let verdict = match t.pass {
            Some(true) => "pass",
            Some(false) => "MISS",
            None => "-",
        };
        eprintln!("bench: target {verdict:4} {}: {}", t.name, t.figure);
    }
    let errors = results.errors();
    if !failures.is_empty() || errors > 0 {
        return Err(format!(
            "{} measurement(s) failed and {errors} request(s) went wrong; see {}",
            failures.len(),
            md.display()
        ));
    }
    Ok(())
}

/// Whether valgrind runs; as root with apt-get, installs Debian's package first if it is missing.
fn ensure_valgrind() -> bool {
    let runs = || Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if runs() {
        return true;
    }
    // Safety: geteuid only reads the process's credentials.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || Command::new("apt-get").arg("--version").output().is_err() {
        eprintln!("bench: valgrind is missing (apt-get install valgrind); no instruction counts");
        return false;
    }
    eprintln!("bench: installing Debian's valgrind with apt-get (for the instruction counts)");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !apt(&["install", "-y", "-q", "valgrind"]) {
        let _ = apt(&["update", "-q"]);
        let _ = apt(&["install", "-y", "-q", "valgrind"]);
    }
    runs()
}

/// What the callgrind runs counted, by job and variant, and each cell that failed (named, with
/// why: the other cells still count).
type Counts = (Vec<(Job, Variant, run::Profile)>, Vec<String>);

/// Each of `plan`'s variants and jobs once in Envoy under callgrind. The dumps stay in
/// `dump_dir` for callgrind_annotate.
fn instruction_counts(plan: &Plan, setup: &Setup, dump_dir: &Path) -> Result<Counts, String> {
    std::fs::create_dir_all(dump_dir).map_err(|e| format!("{}: {e}", dump_dir.display()))?;
    let mut bodies = Vec::new();
    let (mut counts, mut failed) = (Vec::new(), Vec::new());
    for job in &plan.jobs {
        let (warmup, timed) = plan.requests(*job);
        for variant in &plan.variants {
            if variant.does(*job).is_err() {
                continue;
            }
            let spec = run::request_for(*job, *variant, &mut bodies);
            eprintln!("bench: {job} / {} under callgrind ({timed} requests)", variant.name());
            match run::profile(setup, *variant, *job, &spec, warmup.max(20), timed, dump_dir) {
                Ok(profile) => {
                    eprintln!(
                        "bench:   {:.0} instructions per request ({})",
                        profile.instructions_per_request,
                        profile.dump.display()
                    );
                    counts.push((*job, *variant, profile));
                }
                Err(e) => {
                    eprintln!("bench:   not counted: {e}");
                    failed.push(format!("{job} / {}: {e}", variant.name()));
                }
            }
        }
    }
    Ok((counts, failed))
}

/// `profile`: instruction counts only, printed.
fn profile(plan: &Plan, out_dir: &Path) -> Result<(), String> {
    let envoy =
        envoyx_harness::envoy_path(ENVOY_VERSION).map_err(|e| format!("Envoy {ENVOY_VERSION}: {e}"))?;
    let build_dir = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("envoyx-bench-build");
    let artifacts = build::all(&build_dir)?;
    if !ensure_valgrind() {
        return Err("profile needs valgrind".to_string());
    }
    let sizes = plan.jobs.iter().filter_map(|j| if let Job::Upper(s) = j { Some(*s) } else { None });
    let upstream = CheckingUpstream::start(sizes.max().unwrap_or(0)).map_err(|e| e.to_string())?;
    let setup = Setup {
        envoy,
        artifacts,
        upstream_port: upstream.port,
        envoy_cpu: None,
        connections: 1,
        launcher: None,
        rate: None,
    };
    let (counts, failed) = instruction_counts(plan, &setup, out_dir)?;
    for (job, variant, profile) in counts {
        println!(
            "{job} / {}: {:.0} instructions per request; callbacks run: {}",
            variant.name(),
            profile.instructions_per_request,
            profile.callbacks.join(", ")
        );
    }
    for failure in &failed {
        println!("{failure}: not counted");
    }
    if failed.is_empty() { Ok(()) } else { Err(format!("{} callgrind run(s) failed", failed.len())) }
}

/// The raw samples, for re-reading without re-running.
fn samples_json(samples: &BTreeMap<(Job, Variant), Vec<Sample>>) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = samples
        .iter()
        .flat_map(|((job, variant), list)| {
            list.iter().enumerate().map(move |(round, s)| {
                serde_json::json!({
                    "job": job.to_string(),
                    "variant": variant.short(),
                    "round": round + 1,
                    "requests": s.requests,
                    "envoy_cpu_us_per_request": s.cpu_us_per_request,
                    "processor_cpu_us_per_request": s.processor_cpu_us_per_request,
                    "requests_per_second": s.requests_per_second,
                    "p50_us": s.p50_us,
                    "p99_us": s.p99_us,
                    "peak_rss_kib": s.peak_rss_kib,
                    "go_allocations_per_request": s.go_allocations_per_request.map(|(objects, bytes)| {
                        serde_json::json!({ "objects": objects, "bytes": bytes })
                    }),
                    "errors": s.errors,
                    "first_error": s.first_error,
                })
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// How each variant does each job, for the report.
fn method_notes() -> Vec<String> {
    vec![
        "EnvoyX: the stock host (`libenvoyx_stock_host.so`) in `envoy.filters.http.dynamic_modules`; header and passthrough use `rust/bench/module`, the transform is the `body-rewrite` example as shipped (`request`): each body chunk rewritten in place through `chunks_mut()`.".to_string(),
        "EnvoyX Go module: the same jobs in Go with the Go SDK (`go/bench`, `go build -buildmode=c-shared`, the toolchain EnvoyX installs), through the same stock host; the transform rewrites each slice of `RequestBody().Slices()` in place. Its allocations per request are in the Go section.".to_string(),
        "C module: `rust/bench/c/upstream_filter.c` against upstream's own ABI (v0.2.0), -O3; rewrites each chunk in place through `get_body_chunks`.".to_string(),
        "Lua: `envoy.filters.http.lua` with inline source; the transform buffers the whole body (`body()`), then `setBytes(string.upper(getBytes(...)))`.".to_string(),
        "Proxy-Wasm: `rust/bench/wasm/filter.wat` on V8; each chunk is copied into the VM (`proxy_get_buffer_bytes`), upper-cased 8 bytes at a time, and copied back (`proxy_set_buffer_bytes`).".to_string(),
        "ext_proc: `rust/bench/extproc` (tonic on envoy-types, one thread, its own process); header job: response headers only; transform: request body BUFFERED, headers skipped; passthrough: ext_proc's default mode (both header messages), answered with no change. Its own CPU is shown as \"+ N in the processor\" and is not in the Envoy figure or the ratios.".to_string(),
        "Auth job: a GET with `authorization: Bearer ann`; the auth service is `envoyx_harness::AuthServer` (HTTP/1.1, a thread per connection) in its own process (`envoyx-bench auth-server`), its CPU shown as \"+ N in the processor\". EnvoyX: the `auth` example as shipped (`cluster=auth timeout_ms=5000`: an HTTP callout, the identity added on 200); ext_authz: `http_service` on the same cluster, `authorization` sent, `x-auth-user` passed upstream; Lua: `httpCall` to the same cluster, the same decision. No filter: no auth at all (the floor).".to_string(),
        "Respond job (a GET answered by the filter, no upstream asked; status 200 and 64 KiB: 16 chunks of 4 KiB, chunk i the letter a+i): EnvoyX (`rust/bench/module`, `respond`), the Go module and the C module stream it, `send_response_headers` then 16 `send_response_data` calls from the request-headers hook (upstream's own callbacks for C; EnvoyX's ABI 1.2 calls through the stock host for EnvoyX and Go), and the client checks the 16 chunks arrive; Lua (`respond`), Proxy-Wasm (`proxy_send_local_response`) and ext_proc (an ImmediateResponse to the request headers; response headers skipped) send it in one piece, as they cannot stream a response they make; no filter: the route's `direct_response` with the same body. Peak RSS is Envoy's VmHWM at the end of the measurement (its whole life, start-up included).".to_string(),
        "Every listener and upstream cluster has a 64 MiB buffer limit, so Lua and ext_proc can hold a 16 MiB body; the same for every variant.".to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_is_a_fraction_of_full_with_one_body_size() {
        let (quick, full) = (Plan::quick(), Plan::full());
        assert_eq!(quick.jobs.iter().filter(|j| matches!(j, Job::Upper(_))).count(), 1);
        assert_eq!(full.jobs.len(), 9);
        assert!(full.jobs.contains(&Job::Respond) && quick.jobs.contains(&Job::Respond));
        assert_eq!(quick.requests(Job::Respond), (200, 2_000));
        assert!(full.rounds >= 3);
        assert_eq!(quick.requests(Job::Header), (200, 2_000));
        assert_eq!(full.requests(Job::Upper(16 << 20)), (10, 100));
    }

    #[test]
    fn options_narrow_the_plan() {
        let args: Vec<String> =
            "quick --jobs header,1MiB,4096,respond --variants envoyx,c --rounds 2 --scale 0.5 --out /tmp/x"
                .split(' ')
                .map(String::from)
                .collect();
        let (plan, out) = parse_args(&args).unwrap();
        assert_eq!(plan.jobs, vec![Job::Header, Job::Upper(1 << 20), Job::Upper(4096), Job::Respond]);
        assert_eq!(plan.variants, vec![Variant::EnvoyX, Variant::CModule]);
        assert_eq!((plan.rounds, out), (2, Some(PathBuf::from("/tmp/x"))));
        assert_eq!(plan.requests(Job::Header), (100, 1_000));
        assert!(parse_args(&["slow".to_string()]).is_err());
        assert!(
            parse_args(&["full".to_string(), "--jobs".to_string()]).unwrap_err().contains("needs a value")
        );
        assert!(parse_args(&["full".into(), "--variants".into(), "perl".into()]).is_err());
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("12kB"), None);
    }
}
