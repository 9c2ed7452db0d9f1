//! One measurement: a fresh Envoy (and, for ext_proc, a fresh processor) for a variant and a job,
//! warmed up, then a fixed number of requests with Envoy's CPU time read from /proc before and
//! after.

use crate::load::{self, RequestSpec};
use crate::pattern;
use crate::procfs;
use crate::variants::{self, Artifacts, Job, Variant};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The Envoy version every benchmark runs.
pub const ENVOY_VERSION: &str = "1.40.0";

/// Starts `binary` (Envoy, or a wrapper that runs it) on the bench bootstrap for `variant` and
/// `job` on fresh ports, without waiting for it; returns it with its listener's port.
pub(crate) fn spawn_envoy(
    setup: &Setup,
    binary: &Path,
    variant: Variant,
    job: Job,
    processor: Option<variants::ProcessorCluster>,
) -> Result<(envoyx_harness::Envoy, u16, Option<u16>), String> {
    let admin_port = envoyx_harness::free_port().map_err(|e| e.to_string())?;
    let listen_port = envoyx_harness::free_port().map_err(|e| e.to_string())?;
    let mut bootstrap = variants::bootstrap(
        admin_port,
        listen_port,
        setup.upstream_port,
        variants::filter(variant, job, &setup.artifacts),
        processor,
    );
    if variant == Variant::NoFilter && job == Job::Respond {
        variants::answer_on_the_route(&mut bootstrap);
    }
    // The Go variant: a listener of its own that reports the Go runtime's allocations.
    let go_allocations_port = match variant {
        Variant::Go => Some(crate::go::add_allocations_listener(&mut bootstrap, &setup.artifacts)?),
        _ => None,
    };
    let dir = tempfile::Builder::new().prefix("envoyx-bench-").tempdir().map_err(|e| e.to_string())?;
    let command = envoyx_harness::EnvoyCommand {
        binary,
        version: ENVOY_VERSION,
        bootstrap: &bootstrap,
        module_search_path: None,
        log_level: "warn",
    };
    let envoy = command.spawn(dir).map_err(|e| e.to_string())?;
    Ok((envoy, listen_port, go_allocations_port))
}

/// What one measurement found.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub requests: usize,
    /// Envoy's CPU time (utime + stime, all threads) per request, in µs.
    pub cpu_us_per_request: f64,
    /// The ext_proc server's CPU time per request, in µs (ext_proc only).
    pub processor_cpu_us_per_request: Option<f64>,
    pub requests_per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Context switches of Envoy's threads per request (a Go runtime handing its processor
    /// back and forth shows here first).
    pub context_switches_per_request: f64,
    /// Envoy's peak resident set (VmHWM) at the end, in KiB.
    pub peak_rss_kib: u64,
    /// The Go variant: what the Go runtime allocated per timed request, (objects, bytes).
    pub go_allocations_per_request: Option<(f64, f64)>,
    pub errors: usize,
    pub first_error: Option<String>,
}

/// Where things run and how much load to send.
#[derive(Clone, Debug)]
pub struct Setup {
    pub envoy: std::path::PathBuf,
    pub artifacts: Artifacts,
    pub upstream_port: u16,
    /// Pin Envoy to this CPU (the client and upstream run on the others), if there are two.
    pub envoy_cpu: Option<usize>,
    pub connections: usize,
    /// Start Envoy through this in timed measurements (the CPU limit's wrapper, which joins a
    /// cgroup and runs `envoy`); callgrind runs `envoy` itself.
    pub launcher: Option<std::path::PathBuf>,
    /// Timed requests paced at this many per second (`--rate`); `None`: as fast as Envoy answers.
    pub rate: Option<f64>,
}

/// The ext_proc server, killed (by PID) when dropped.
struct Processor {
    child: Child,
    cluster: variants::ProcessorCluster,
}

impl Processor {
    /// The processor a measurement needs: the ext_proc server, or the auth service for a
    /// variant doing the auth job (this program's `auth-server`, in its own process so that its
    /// CPU is counted apart from the client's).
    fn for_measurement(setup: &Setup, variant: Variant, job: Job) -> Result<Option<Self>, String> {
        let (name, http2, command) = match (variant, job) {
            (Variant::ExtProc, _) => {
                let mut command = Command::new(&setup.artifacts.extproc_server);
                command.args(["--job", job.word()]);
                ("extproc", true, command)
            }
            (Variant::NoFilter, Job::Auth) => return Ok(None),
            (_, Job::Auth) => {
                let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                command.arg("auth-server");
                (variants::AUTH_CLUSTER, false, command)
            }
            _ => return Ok(None),
        };
        Self::start(command, name, http2).map(Some)
    }

    fn start(mut command: Command, name: &'static str, http2: bool) -> Result<Self, String> {
        let binary = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the {name} server {binary}: {e}"))?;
        let stdout = child.stdout.take().ok_or("the processor has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("{name} server: {e}"))?;
        let port = line
            .trim()
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("the {name} server said {line:?}, not `listening on 127.0.0.1:PORT`"));
        match port {
            Ok(port) => Ok(Self { child, cluster: variants::ProcessorCluster { name, port, http2 } }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The request `variant` gets for `job`, and what its reply must show: no filter does no job,
/// so its replies lack the added header and its bodies arrive unchanged (but answers the respond
/// job on its route). The respond job's reply must be the 64 KiB body, and from a variant that
/// streams it, 16 chunks on the wire. Bodies are shared across measurements.
pub fn request_for(job: Job, variant: Variant, bodies: &mut Vec<(usize, Arc<Vec<u8>>)>) -> RequestSpec {
    let does_the_job = variant != Variant::NoFilter;
    match job {
        Job::Header | Job::Observe => RequestSpec::get(does_the_job),
        Job::Pass => RequestSpec::get(false),
        Job::Auth => RequestSpec::get_authorized("Bearer ann"),
        Job::Respond => RequestSpec::get_answered(
            Arc::new(pattern::response_body()),
            variant.streams_its_answer().then_some(pattern::RESPONSE_CHUNKS),
        ),
        Job::Upper(size) => {
            let body = match bodies.iter().find(|(s, _)| *s == size) {
                Some((_, body)) => body.clone(),
                None => {
                    let body = Arc::new(pattern::body(size));
                    bodies.push((size, body.clone()));
                    body
                }
            };
            RequestSpec::post(body, if does_the_job { "upper" } else { "same" })
        }
    }
}

/// Runs one measurement of `variant` doing `job`: `warmup` requests, then `requests` timed ones.
pub fn measure(
    setup: &Setup,
    variant: Variant,
    job: Job,
    spec: &RequestSpec,
    warmup: usize,
    requests: usize,
) -> Result<Sample, String> {
    let processor = Processor::for_measurement(setup, variant, job)?;
    let (mut envoy, listen_port, go_allocations_port) = spawn_envoy(
        setup,
        setup.launcher.as_ref().unwrap_or(&setup.envoy),
        variant,
        job,
        processor.as_ref().map(|p| p.cluster),
    )?;
    envoy.wait_ready(Duration::from_secs(60))?;
    let pid = envoy.pid();
    if let Some(cpu) = setup.envoy_cpu {
        procfs::pin_process(pid, cpu).map_err(|e| format!("pinning Envoy to CPU {cpu}: {e}"))?;
    }
    let warm = load::run(listen_port, spec, warmup, setup.connections);
    if warm.errors > 0 && warm.ok == 0 {
        let error = warm.first_error.unwrap_or_default();
        return Err(format!(
            "{} / {job}: every warm-up request failed: {error}\n{}",
            variant.name(),
            envoy.log_tail()
        ));
    }
    let processor_pid = processor.as_ref().map(|p| p.child.id());
    let before = procfs::cpu_ticks(pid).map_err(|e| e.to_string())?;
    let switches_before = procfs::context_switches(pid).map_err(|e| e.to_string())?;
    let processor_before = processor_pid.map(procfs::cpu_ticks).transpose().map_err(|e| e.to_string())?;
    let go_before = go_allocations_port.map(crate::go::allocations).transpose()?;
    let result = match setup.rate {
        Some(rate) => load::run_paced(listen_port, spec, requests, setup.connections, rate),
        None => load::run(listen_port, spec, requests, setup.connections),
    };
    let after = procfs::cpu_ticks(pid).map_err(|e| e.to_string())?;
    let switches_after = procfs::context_switches(pid).map_err(|e| e.to_string())?;
    let go_after = go_allocations_port.map(crate::go::allocations).transpose()?;
    let processor_after = processor_pid.map(procfs::cpu_ticks).transpose().map_err(|e| e.to_string())?;
    let peak_rss_kib = procfs::vm_hwm_kib(pid).map_err(|e| e.to_string())?;
    let _ = envoy.stop(Duration::from_secs(5));
    drop(processor);

    let us_per_tick = 1e6 / procfs::ticks_per_second() as f64;
    let per_request = |ticks: u64| ticks as f64 * us_per_tick / requests.max(1) as f64;
    let processor_cpu_us_per_request = match (processor_before, processor_after) {
        (Some(b), Some(a)) => Some(per_request(a.total().saturating_sub(b.total()))),
        _ => None,
    };
    Ok(Sample {
        requests,
        cpu_us_per_request: per_request(after.total().saturating_sub(before.total())),
        context_switches_per_request: switches_after.saturating_sub(switches_before) as f64
            / requests.max(1) as f64,
        processor_cpu_us_per_request,
        requests_per_second: result.ok as f64 / result.elapsed.as_secs_f64().max(1e-9),
        p50_us: crate::stats::percentile(&result.latencies_us, 50.0).unwrap_or(0),
        p99_us: crate::stats::percentile(&result.latencies_us, 99.0).unwrap_or(0),
        peak_rss_kib,
        go_allocations_per_request: go_before.zip(go_after).map(|((o0, b0), (o1, b1))| {
            let per = |n: u64| n as f64 / requests.max(1) as f64;
            (per(o1.saturating_sub(o0)), per(b1.saturating_sub(b0)))
        }),
        errors: result.errors + warm.errors,
        first_error: warm.first_error.or(result.first_error),
    })
}

/// What a callgrind run found.
#[derive(Clone, Debug)]
pub struct Profile {
    /// User-space instructions Envoy executed per request (all threads).
    pub instructions_per_request: f64,
    /// The `envoy_dynamic_module_callback_*` functions of Envoy that ran while counting, sorted.
    pub callbacks: Vec<String>,
    /// The dump, for callgrind_annotate.
    pub dump: std::path::PathBuf,
}

/// The names of Envoy's dynamic-module callbacks (`envoy_dynamic_module_callback_*`) that a
/// callgrind dump saw run. Callgrind names a function once, at its first `fn=` or `cfn=` line,
/// and only functions that ran appear.
pub fn callbacks_run(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("fn=") || l.starts_with("cfn="))
        .filter_map(|l| {
            let start = l.find("envoy_dynamic_module_callback_")?;
            let name = &l[start..];
            let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
            Some(name[..end].to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Parses the `totals:` (or `summary:`) line of a callgrind output file: the instructions
/// executed (`Ir`, the first event).
pub fn callgrind_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Runs `variant` doing `job` in Envoy under valgrind's callgrind: `warmup` requests, counters
/// zeroed, `requests` requests on one connection, counters dumped into `out_dir`. Returns the
/// instructions Envoy executed per request (all threads), the module callbacks that ran, and the
/// dump's path. Needs valgrind (Debian's `valgrind`).
pub fn profile(
    setup: &Setup,
    variant: Variant,
    job: Job,
    spec: &RequestSpec,
    warmup: usize,
    requests: usize,
    out_dir: &Path,
) -> Result<Profile, String> {
    let processor = Processor::for_measurement(setup, variant, job)?;
    let job_name = match job {
        Job::Upper(size) => format!("upper-{size}"),
        _ => job.word().to_string(),
    };
    let stem = format!("callgrind.{}.{job_name}", variant.short());
    let out_file = out_dir.join(&stem);
    let wrapper = out_dir.join(format!("{stem}.sh"));
    // Valgrind cannot follow the Go runtime's signal-based preemption of goroutines (Envoy under
    // callgrind crashed in valgrind itself in about one run of three of the Go module's 1 MiB
    // job); without it goroutines yield at function calls, which the measured hooks never wait on.
    let go_env = match variant {
        Variant::Go | Variant::GoLoop => "GODEBUG=asyncpreemptoff=1 ",
        _ => "",
    };
    let script = format!(
        "#!/bin/sh\nexec env {go_env}valgrind --tool=callgrind --callgrind-out-file={} {} \"$@\"\n",
        out_file.display(),
        setup.envoy.display()
    );
    std::fs::write(&wrapper, script).map_err(|e| e.to_string())?;
    let status = Command::new("chmod").arg("+x").arg(&wrapper).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("chmod failed".to_string());
    }
    let (mut envoy, listen_port, _) =
        spawn_envoy(setup, &wrapper, variant, job, processor.as_ref().map(|p| p.cluster))?;
    envoy.wait_ready(Duration::from_secs(600))?;
    let pid = envoy.pid().to_string();
    let warm = load::run(listen_port, spec, warmup, 1);
    if warm.ok == 0 {
        return Err(format!("every warm-up request failed: {:?}", warm.first_error));
    }
    let control = |flag: &str| -> Result<(), String> {
        let output =
            Command::new("callgrind_control").args([flag, &pid]).output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("callgrind_control {flag}: {}", String::from_utf8_lossy(&output.stderr)))
        }
    };
    control("-z")?;
    let result = load::run(listen_port, spec, requests, 1);
    let dumped = control("-d");
    let log_tail = envoy.log_tail();
    let _ = envoy.stop(Duration::from_secs(60));
    drop(processor);
    if result.errors > 0 {
        // Under valgrind the reason is in Envoy's output (valgrind's own report included).
        let why = log_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        return Err(format!(
            "{} request(s) failed under callgrind: {:?}; Envoy's last line: {why}",
            result.errors, result.first_error
        ));
    }
    dumped?;
    // The first explicit dump is `<out>.1`.
    let dump = out_dir.join(format!("{stem}.1"));
    let text = std::fs::read_to_string(&dump).map_err(|e| format!("{}: {e}", dump.display()))?;
    let total = callgrind_total(&text).ok_or_else(|| format!("no totals in {}", dump.display()))?;
    Ok(Profile {
        instructions_per_request: total as f64 / requests as f64,
        callbacks: callbacks_run(&text),
        dump,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_respond_job_wants_the_body_and_from_a_streaming_variant_its_chunks() {
        let mut bodies = Vec::new();
        for variant in Variant::ALL {
            let spec = request_for(Job::Respond, variant, &mut bodies);
            assert!(spec.head.starts_with(b"GET /bench "), "{variant:?}");
            assert_eq!(spec.want_body.as_deref(), Some(&pattern::response_body()), "{variant:?}");
            let streams = matches!(variant, Variant::EnvoyX | Variant::Go | Variant::CModule);
            assert_eq!(spec.want_chunks, streams.then_some(16), "{variant:?}");
        }
        assert!(request_for(Job::Header, Variant::EnvoyX, &mut bodies).want_body.is_none());
    }

    #[test]
    fn reads_callgrind_totals() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 123456\n\nfn=(1) main\n3 5\ntotals: 123450\n";
        assert_eq!(callgrind_total(dump), Some(123456));
        assert_eq!(callgrind_total("events: Ir\ntotals: 99\n"), Some(99));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn lists_the_callbacks_that_ran() {
        let dump = "fn=(1) 0x0000000004de9450\ncfn=(2) envoy_dynamic_module_callback_http_get_body_chunks\n\
                    calls=3 0\nfn=(3) envoy_dynamic_module_callback_http_add_header'2\ncfn=(2)\n\
                    cfn=(4) envoy_dynamic_module_callback_http_get_body_chunks_size [/x/envoy]\n";
        assert_eq!(
            callbacks_run(dump),
            vec![
                "envoy_dynamic_module_callback_http_add_header",
                "envoy_dynamic_module_callback_http_get_body_chunks",
                "envoy_dynamic_module_callback_http_get_body_chunks_size",
            ]
        );
        assert!(callbacks_run("fn=(1) main\n").is_empty());
    }
}
