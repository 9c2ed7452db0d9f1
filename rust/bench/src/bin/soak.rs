//! `cargo run --release -p envoyx-bench --bin soak -- [--requests N] [--envoy-version V]`
//!
//! Soak (issue 14, item 3): N requests (default 1,000,000) through official Envoy serving a chain
//! of four example modules (`chain.rs`), half over HTTP/1.1 keep-alive connections and half over
//! HTTP/2 connections with concurrent streams, as GETs and POSTs of bodies from 0 bytes to
//! 256 KiB whose every byte the upstream checks (upper-cased by the chain). Envoy's resident
//! memory is sampled after every 10,000 requests (about every second and a half here); the slope after warm-up (the first quarter of the requests) is
//! reported. At the end the listener is removed through LDS and the lifecycle is checked: every
//! configuration destroyed, its streams started = completed = destroyed = requests, the modules
//! unmapped unless `do_not_dlclose`. Exits 1 on a failed request, an unbalanced count, a module
//! left mapped, or memory still growing after warm-up by more than 32 MiB.

use envoyx_bench::chain::{CHAIN, ChainedEnvoy, LISTENER};
use envoyx_bench::load::{self, LoadResult, RequestSpec};
use envoyx_bench::load_h2::run_h2;
use envoyx_bench::long_run;
use envoyx_bench::pattern;
use envoyx_bench::upstream::CheckingUpstream;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    requests: usize,
    envoy_version: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { requests: 1_000_000, envoy_version: "1.40.0".to_string() };
    long_run::flags(args, |flag, value| {
        match flag {
            "--requests" => options.requests = long_run::number(flag, value)?,
            "--envoy-version" => options.envoy_version = value.to_string(),
            other => return Err(format!("unknown argument `{other}`")),
        }
        Ok(())
    })?;
    if options.requests < 1000 {
        return Err("--requests must be at least 1000".to_string());
    }
    Ok(options)
}

/// The largest body of the mix.
const MAX_BODY: usize = 256 << 10;

/// The request mix, by weight (a request picks `specs[i % len]`): mostly small, some large.
fn mix() -> Vec<RequestSpec> {
    let post = |len: usize| RequestSpec::post(Arc::new(pattern::body(len)), "upper");
    let mut specs = Vec::new();
    for _ in 0..8 {
        specs.push(RequestSpec::get(false));
        specs.push(post(100));
    }
    for _ in 0..3 {
        specs.push(post(4 << 10));
    }
    specs.push(post(64 << 10));
    specs.push(post(1));
    specs.push(post(MAX_BODY));
    specs
}

/// One round's sample: requests done so far (both protocols) and Envoy's RSS.
struct Sample {
    at: Duration,
    requests: usize,
    rss_kib: u64,
}

/// Least-squares slope of RSS (KiB) over requests, in KiB per 100,000 requests.
fn slope_per_100k(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_x = samples.iter().map(|s| s.requests as f64).sum::<f64>() / n;
    let mean_y = samples.iter().map(|s| s.rss_kib as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for s in samples {
        num += (s.requests as f64 - mean_x) * (s.rss_kib as f64 - mean_y);
        den += (s.requests as f64 - mean_x).powi(2);
    }
    if den == 0.0 { 0.0 } else { num / den * 100_000.0 }
}

fn soak(options: &Options) -> Result<Vec<String>, String> {
    let upstream = CheckingUpstream::start(MAX_BODY).map_err(|e| e.to_string())?;
    let chain = ChainedEnvoy::start(&options.envoy_version, upstream.port, None)?;
    let specs = mix();
    let rss_start = chain.rss_kib()?;
    // Rounds of 5,000 requests each way; Envoy's memory is sampled after each.
    let round = 5_000.min(options.requests / 2);
    let (mut h1, mut h2) = (LoadResult::default(), LoadResult::default());
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut done = 0;
    while done < options.requests {
        let each = round.min((options.requests - done) / 2).max(1);
        let (one, two) = std::thread::scope(|scope| {
            let h1 = scope.spawn(|| load::run_mixed(chain.port, &specs, each, 4));
            let h2 = scope.spawn(|| run_h2(chain.port, &specs, each, 2, 8, Duration::from_secs(60)));
            (h1.join().unwrap_or_default(), h2.join().unwrap_or_default())
        });
        h1.absorb(one);
        h2.absorb(two);
        done += 2 * each;
        samples.push(Sample { at: started.elapsed(), requests: done, rss_kib: chain.rss_kib()? });
    }
    let elapsed = started.elapsed();
    let rss_end = chain.rss_kib()?;
    let warm = samples.iter().position(|s| s.requests >= options.requests / 4).unwrap_or(0);
    let after_warm_up = &samples[warm..];
    let slope = slope_per_100k(after_warm_up);
    let growth_after_warm_up =
        after_warm_up.first().map(|first| rss_end as i64 - first.rss_kib as i64).unwrap_or_default();
    let envoy_total = chain.envoy.stat(&format!("http.{LISTENER}.downstream_rq_total")).unwrap_or(0);
    let envoy_h2 = chain.envoy.stat(&format!("http.{LISTENER}.downstream_cx_http2_total")).unwrap_or(0);
    let upstream_wrong = upstream.mismatches.load(std::sync::atomic::Ordering::Relaxed);
    let (lifecycle, mut problems) = chain.remove_and_check(Some(done as u64), Duration::from_secs(30));

    for (protocol, result) in [("HTTP/1.1", &h1), ("HTTP/2", &h2)] {
        if result.errors > 0 {
            problems.push(format!(
                "{protocol}: {} of {} requests failed; first: {}",
                result.errors,
                result.ok + result.errors,
                result.first_error.as_deref().unwrap_or("?")
            ));
        }
    }
    if envoy_total != done as u64 {
        problems.push(format!("Envoy counted {envoy_total} downstream requests, the clients sent {done}"));
    }
    if growth_after_warm_up > 32 << 10 {
        problems.push(format!("Envoy's memory grew by {growth_after_warm_up} KiB after warm-up"));
    }
    let chain_names: Vec<_> = CHAIN.iter().map(|l| format!("{}({:?})", l.example, l.filter_config)).collect();
    println!("EnvoyX soak, Envoy {} (--concurrency 1)", options.envoy_version);
    println!("  chain: {} → router", chain_names.join(" → "));
    println!(
        "  requests: {done} in {:.1} s ({:.0}/s): HTTP/1.1 {} ok, {} failed (4 keep-alive connections); HTTP/2 {} ok, {} failed ({envoy_h2} connections, 8 streams each)",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        h1.ok,
        h1.errors,
        h2.ok,
        h2.errors
    );
    println!(
        "  bodies: GET and POST of 1 B to {} KiB (mix of {} kinds), every byte checked upstream: {upstream_wrong} wrong",
        MAX_BODY >> 10,
        specs.len()
    );
    println!(
        "  Envoy resident memory: {rss_start} KiB at start, {} KiB after warm-up ({} requests), {rss_end} KiB at the end; slope after warm-up {slope:+.1} KiB per 100,000 requests",
        after_warm_up.first().map(|s| s.rss_kib).unwrap_or_default(),
        after_warm_up.first().map(|s| s.requests).unwrap_or_default()
    );
    let curve: Vec<_> = samples
        .iter()
        .step_by((samples.len() / 10).max(1))
        .map(|s| format!("{:.0}s:{}", s.at.as_secs_f64(), s.rss_kib))
        .collect();
    println!("  RSS samples (time: KiB): {}", curve.join(" "));
    for line in lifecycle {
        println!("  {line}");
    }
    drop(upstream);
    Ok(problems)
}

fn main() {
    envoyx_bench::long_run::main("soak", "soak [--requests N] [--envoy-version V]", parse, soak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_memory_over_requests() {
        let at = |requests, rss_kib| Sample { at: Duration::ZERO, requests, rss_kib };
        let flat = [at(0, 100), at(100_000, 100), at(200_000, 100)];
        assert_eq!(slope_per_100k(&flat), 0.0);
        let growing = [at(0, 100), at(100_000, 150), at(200_000, 200)];
        assert!((slope_per_100k(&growing) - 50.0).abs() < 1e-9);
        assert_eq!(slope_per_100k(&growing[..1]), 0.0, "one sample has no slope");
    }
}
