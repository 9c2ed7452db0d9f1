//! `cargo run --release -p envoyx-bench --bin chaos -- [--seconds N] [--envoy-version V]`
//!
//! Chaos (issue 14, item 4): for N seconds (default 60), clients over HTTP/1.1 and HTTP/2 send
//! requests through the chain of example modules (`chain.rs`; the delay module holds each request
//! and, for a random few milliseconds, each response, resuming them from its own threads) to an
//! upstream that misbehaves as each request asks (`chaos_upstream.rs`: resets before and during
//! the response, stalls before and during it, half-closes, malformed and oversized responses),
//! and a random share of the clients give up on purpose — inside the request head, inside the
//! body, or while waiting for the answer. Route timeout 1 s.
//!
//! Checked: Envoy never exits; no request hangs (every one the client does not abandon ends
//! within 5 s); each ends as its fault implies (200 with the whole body, a 5xx from Envoy, 504
//! for a stall, or a response cut after its headers); then, the listener removed through LDS,
//! every configuration is destroyed with its streams started = completed = destroyed and the
//! modules are unmapped; and Envoy logged no EnvoyX error. Exits 1 otherwise.

use envoyx_bench::chain::ChainedEnvoy;
use envoyx_bench::chaos_upstream::{ChaosUpstream, Fault};
use envoyx_bench::long_run;
use envoyx_bench::wire::{read_body, read_head};
use envoyx_core::sync::lock;
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Options {
    seconds: u64,
    envoy_version: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { seconds: 60, envoy_version: "1.40.0".to_string() };
    long_run::flags(args, |flag, value| {
        match flag {
            "--seconds" => options.seconds = long_run::number(flag, value)?,
            "--envoy-version" => options.envoy_version = value.to_string(),
            other => return Err(format!("unknown argument `{other}`")),
        }
        Ok(())
    })?;
    if options.seconds == 0 {
        return Err("--seconds must be at least 1".to_string());
    }
    Ok(options)
}

/// How long a request the client does not abandon may take: the route timeout (1 s) plus the
/// longest response hold (20 ms) plus room for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(5);

/// Where the client gives up on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Abort {
    Never,
    /// HTTP/1.1 only: the connection closes halfway through the request head.
    InHead,
    /// The request body stops halfway (HTTP/1.1: the connection closes; HTTP/2: RST_STREAM).
    InBody,
    /// The whole request is sent; the client leaves 0–30 ms later, answered or not.
    Waiting,
}

/// How a request ended, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Abandoned by the client on purpose.
    Abandoned,
    /// A whole response: status and body length.
    Complete(u16, usize),
    /// The response started (status 200) and was cut.
    Cut,
    /// No response: the connection or stream failed first.
    Failed(String),
    /// Nothing within [`DEADLINE`].
    Hung,
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Abandoned => "abandoned".to_string(),
            Outcome::Complete(200, _) => "200, whole body".to_string(),
            Outcome::Complete(status, _) => format!("{status}"),
            Outcome::Cut => "200, cut".to_string(),
            Outcome::Failed(_) => "failed before a response".to_string(),
            Outcome::Hung => "HUNG".to_string(),
        }
    }
}

/// Whether `outcome` is what `fault` implies for a request the client did not abandon.
fn expected(fault: Fault, protocol: &str, outcome: &Outcome) -> bool {
    match (fault, outcome) {
        (_, Outcome::Hung) => false,
        (Fault::None | Fault::Large, Outcome::Complete(200, len)) => Some(*len) == fault.body_len(),
        // While the delay module holds the response headers, Envoy buffers the body; over
        // HTTP/1.1 the downstream buffer limit (1 MiB) is below the 4 MiB body, and Envoy answers
        // 500 instead (its rule for a filter's buffer overflowing before the response started).
        // HTTP/2's stream limit follows its 256 MiB window, so the body fits.
        (Fault::Large, Outcome::Complete(500, _)) => protocol == "HTTP/1.1",
        (Fault::Stall, Outcome::Complete(status, _)) => *status == 504,
        // A response cut after its headers reaches the client as cut, or — when the fault
        // struck while the delay module still held the headers — as Envoy's own 5xx.
        (f, Outcome::Cut) => f.cuts_after_headers(),
        (
            Fault::Reset
            | Fault::HalfClose
            | Fault::Malformed
            | Fault::OversizedHeaders
            | Fault::ResetMidBody
            | Fault::StallMidBody,
            Outcome::Complete(s, _),
        ) => (500..600).contains(s),
        _ => false,
    }
}

/// A small deterministic generator (xorshift64*), one per client thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One request's plan.
#[derive(Clone, Copy)]
struct Plan {
    fault: Fault,
    abort: Abort,
    body_len: usize,
    /// The delay module holds the response this long (`x-envoyx-delay-response`).
    hold_ms: u64,
    /// For [`Abort::Waiting`]: when the client leaves.
    leave_after: Duration,
}

fn plan(rng: &mut Rng, aborts: &[Abort]) -> Plan {
    // One request in four is abandoned; the faults are equally likely.
    let abort = if rng.below(4) == 0 { rng.pick(&aborts[1..]) } else { Abort::Never };
    Plan {
        fault: rng.pick(&Fault::ALL),
        abort,
        body_len: rng.pick(&[0, 10, 3000, 40_000]),
        hold_ms: rng.below(21),
        leave_after: Duration::from_millis(rng.below(31)),
    }
}

/// One HTTP/1.1 request on its own connection.
fn h1_request(port: u16, plan: &Plan) -> Outcome {
    let fail = |e: std::io::Error| Outcome::Failed(e.to_string());
    let conn = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    let _ = conn.set_read_timeout(Some(DEADLINE));
    let mut writer = match conn.try_clone() {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let head = format!(
        "POST /chaos/{} HTTP/1.1\r\nhost: chaos\r\nx-envoyx-delay-response: {}\r\ncontent-length: {}\r\n\r\n",
        plan.fault.name(),
        plan.hold_ms,
        plan.body_len
    );
    let body = vec![b'c'; plan.body_len];
    match plan.abort {
        Abort::InHead => {
            let _ = writer.write_all(&head.as_bytes()[..head.len() / 2]);
            return Outcome::Abandoned;
        }
        Abort::InBody => {
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(&body[..body.len() / 2]);
            return Outcome::Abandoned;
        }
        _ => {}
    }
    if let Err(e) = writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&body)) {
        return fail(e);
    }
    if plan.abort == Abort::Waiting {
        std::thread::sleep(plan.leave_after);
        return Outcome::Abandoned;
    }
    let mut reader = BufReader::new(conn);
    let (mut line, mut reply_body) = (Vec::new(), Vec::new());
    let timed_out = |e: &std::io::Error| {
        matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    };
    let head = match read_head(&mut reader, &mut line, true) {
        Ok(Some(head)) => head,
        Ok(None) => return Outcome::Failed("closed before a response".to_string()),
        Err(e) if timed_out(&e) => return Outcome::Hung,
        Err(e) => return fail(e),
    };
    match read_body(&mut reader, &head, &mut line, &mut reply_body) {
        Ok(()) => Outcome::Complete(head.status, reply_body.len()),
        Err(e) if timed_out(&e) => Outcome::Hung,
        Err(_) if head.status == 200 => Outcome::Cut,
        Err(e) => fail(e),
    }
}

/// HTTP/2 requests on one connection, `streams` at a time, until `until`; reconnects when the
/// connection fails.
async fn h2_client(port: u16, seed: u64, streams: usize, until: Instant, tally: Arc<Tally>) {
    use bytes::Bytes;
    while Instant::now() < until {
        let Ok(tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            tally.add(Fault::None, Abort::Never, "HTTP/2", Outcome::Failed("connect".to_string()));
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok((client, connection)) = h2::client::handshake(tcp).await else { continue };
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        let tasks: Vec<_> = (0..streams)
            .map(|i| {
                let client: h2::client::SendRequest<Bytes> = client.clone();
                let mut rng = Rng(seed ^ ((i as u64 + 1) << 32) | 1);
                let tally = tally.clone();
                tokio::task::spawn_local(async move {
                    while Instant::now() < until {
                        let plan = plan(&mut rng, &[Abort::Never, Abort::InBody, Abort::Waiting]);
                        let outcome = tokio::time::timeout(DEADLINE, h2_request(client.clone(), &plan))
                            .await
                            .unwrap_or(Outcome::Hung);
                        let connection_gone =
                            matches!(&outcome, Outcome::Failed(e) if e.starts_with("connection"));
                        tally.add(plan.fault, plan.abort, "HTTP/2", outcome);
                        if connection_gone {
                            return;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    }
}

async fn h2_request(client: h2::client::SendRequest<bytes::Bytes>, plan: &Plan) -> Outcome {
    use bytes::Bytes;
    let mut client = match client.ready().await {
        Ok(client) => client,
        Err(e) => return Outcome::Failed(format!("connection: {e}")),
    };
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://chaos/chaos/{}", plan.fault.name()))
        .header("x-envoyx-delay-response", plan.hold_ms.to_string())
        .header("content-length", plan.body_len.to_string())
        .body(())
        .unwrap_or_default();
    let (response, mut send) = match client.send_request(request, plan.body_len == 0) {
        Ok(pair) => pair,
        Err(e) => return Outcome::Failed(format!("connection: {e}")),
    };
    let body = Bytes::from(vec![b'c'; plan.body_len]);
    if plan.abort == Abort::InBody {
        let _ = send.send_data(body.slice(..body.len() / 2), false);
        send.send_reset(h2::Reason::CANCEL);
        return Outcome::Abandoned;
    }
    if !body.is_empty() {
        // Envoy's initial window (256 MiB by default) takes the largest body at once.
        send.reserve_capacity(body.len());
        if let Err(e) = send.send_data(body, true) {
            return Outcome::Failed(format!("stream: {e}"));
        }
    }
    if plan.abort == Abort::Waiting {
        tokio::time::sleep(plan.leave_after).await;
        send.send_reset(h2::Reason::CANCEL);
        return Outcome::Abandoned;
    }
    let response = match response.await {
        Ok(response) => response,
        Err(e) => return Outcome::Failed(format!("stream: {e}")),
    };
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut len = 0;
    while let Some(chunk) = body.data().await {
        match chunk {
            Ok(chunk) => {
                len += chunk.len();
                let _ = body.flow_control().release_capacity(chunk.len());
            }
            Err(_) if status == 200 => return Outcome::Cut,
            Err(e) => return Outcome::Failed(format!("stream: {e}")),
        }
    }
    Outcome::Complete(status, len)
}

/// Outcomes by fault and protocol, and the unexpected ones.
#[derive(Default)]
struct Tally {
    counts: Mutex<BTreeMap<(&'static str, &'static str, String), u64>>,
    unexpected: Mutex<Vec<String>>,
}

impl Tally {
    fn add(&self, fault: Fault, abort: Abort, protocol: &'static str, outcome: Outcome) {
        if abort == Abort::Never && !expected(fault, protocol, &outcome) {
            let mut unexpected = lock(&self.unexpected);
            unexpected.push(format!("{protocol} fault {}: {outcome:?}", fault.name()));
        }
        let label = match abort {
            Abort::Never => outcome.label(),
            Abort::InHead => "abandoned inside the request head".to_string(),
            Abort::InBody => "abandoned inside the request body".to_string(),
            Abort::Waiting => "abandoned after the request".to_string(),
        };
        let key = (fault.name(), protocol, label);
        *lock(&self.counts).entry(key).or_default() += 1;
    }
}

fn chaos(options: &Options) -> Result<Vec<String>, String> {
    let upstream = ChaosUpstream::start(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let mut chain = ChainedEnvoy::start(&options.envoy_version, upstream.port, Some("1s"))?;
    let rss_start = chain.rss_kib()?;
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let tally = Arc::new(Tally::default());
    let port = chain.port;
    std::thread::scope(|scope| {
        for thread in 0..8u64 {
            let tally = &tally;
            scope.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ thread);
                while Instant::now() < until {
                    let plan = plan(&mut rng, &[Abort::Never, Abort::InHead, Abort::InBody, Abort::Waiting]);
                    tally.add(plan.fault, plan.abort, "HTTP/1.1", h1_request(port, &plan));
                }
            });
        }
        for thread in 0..2u64 {
            let tally = tally.clone();
            scope.spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    let local = tokio::task::LocalSet::new();
                    runtime.block_on(local.run_until(h2_client(port, 0xC0FFEE ^ thread, 32, until, tally)));
                }
            });
        }
    });
    let mut problems = Vec::new();
    if let Ok(Some(status)) = chain.envoy.try_wait() {
        return Ok(vec![format!("Envoy exited during the run ({status}):\n{}", chain.envoy.log_tail())]);
    }
    let downstream = chain.envoy.stat("http.chain.downstream_rq_total").unwrap_or(0);
    let rss_end = chain.rss_kib()?;
    let (lifecycle, lifecycle_problems) = chain.remove_and_check(None, Duration::from_secs(30));
    problems.extend(lifecycle_problems);
    let log = chain.envoy.log();
    let envoyx_errors: Vec<_> = log
        .lines()
        .filter(|l| {
            (l.contains("[error]") || l.contains("[critical]")) && l.contains("EnvoyX")
                || l.contains("panicked")
        })
        .take(5)
        .collect();
    if !envoyx_errors.is_empty() {
        problems.push(format!("EnvoyX errors in Envoy's log: {envoyx_errors:#?}"));
    }
    let counts = std::mem::take(&mut *lock(&tally.counts));
    let unexpected = std::mem::take(&mut *lock(&tally.unexpected));
    let total: u64 = counts.values().sum();
    let hung: u64 = counts.iter().filter(|((_, _, o), _)| o == "HUNG").map(|(_, n)| n).sum();
    if hung > 0 {
        problems.push(format!("{hung} requests got nothing within {DEADLINE:?}"));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "{} requests ended otherwise than their fault implies, e.g. {:?}",
            unexpected.len(),
            &unexpected[..unexpected.len().min(5)]
        ));
    }
    println!("EnvoyX chaos, Envoy {} (--concurrency 1), {} s", options.envoy_version, options.seconds);
    println!(
        "  requests: {total} by the clients ({downstream} reached Envoy's HTTP connection manager); hung: {hung}; unexpected endings: {}",
        unexpected.len()
    );
    let state = if chain.envoy.try_wait().ok().flatten().is_none() { "running throughout" } else { "EXITED" };
    println!("  Envoy: {state}; resident memory {rss_start} KiB at the start, {rss_end} KiB at the end");
    println!("  {:<18} {:<9} outcome (the client's view): count", "fault", "protocol");
    for ((fault, protocol, outcome), count) in &counts {
        println!("  {fault:<18} {protocol:<9} {outcome}: {count}");
    }
    for line in lifecycle {
        println!("  {line}");
    }
    drop(upstream);
    Ok(problems)
}

fn main() {
    envoyx_bench::long_run::main("chaos", "chaos [--seconds N] [--envoy-version V]", parse, chaos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_fault_may_end_as() {
        assert!(expected(Fault::None, "HTTP/2", &Outcome::Complete(200, 1000)));
        assert!(!expected(Fault::None, "HTTP/2", &Outcome::Complete(200, 999)), "a short body");
        assert!(!expected(Fault::None, "HTTP/1.1", &Outcome::Complete(503, 0)));
        assert!(expected(Fault::Large, "HTTP/1.1", &Outcome::Complete(500, 21)));
        assert!(!expected(Fault::Large, "HTTP/2", &Outcome::Complete(500, 21)));
        assert!(expected(Fault::Stall, "HTTP/1.1", &Outcome::Complete(504, 24)));
        assert!(!expected(Fault::Stall, "HTTP/1.1", &Outcome::Complete(503, 0)));
        assert!(expected(Fault::ResetMidBody, "HTTP/2", &Outcome::Cut));
        assert!(!expected(Fault::Reset, "HTTP/2", &Outcome::Cut), "nothing to cut");
        assert!(!expected(Fault::Malformed, "HTTP/1.1", &Outcome::Complete(200, 0)));
        for fault in Fault::ALL {
            assert!(!expected(fault, "HTTP/1.1", &Outcome::Hung));
            assert!(!expected(fault, "HTTP/2", &Outcome::Failed("stream: reset".to_string())));
        }
    }
}
