//! Metrics (ABI 1.1) on the test host, with a module written here and run in process: defined
//! in `FilterConfig::new` only, recorded from streams, checked by the core (label values, the
//! label limit), and kept by the test host as a proxy's stats would hold them.

use envoyx_sdk::{Counter, Filter, FilterConfig, Gauge, HeadersStatus, Histogram, Stream};
use envoyx_testhost::{MetricKind, MetricLimits, MetricValue, TestHost, logged};

/// Config `limit`: also records a fresh label value per request on `by_user`.
struct ObserveConfig {
    requests: Counter,
    in_flight: Gauge,
    body_bytes: Histogram,
    by_user: Counter,
    refused: Vec<(&'static str, bool)>,
}

impl FilterConfig for ObserveConfig {
    type Filter = Observe;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        let refused = vec![
            ("bad-name", Counter::define("Requests", &[]).is_some()),
            ("bad-label", Counter::define("ok_name", &["a-b"]).is_some()),
            ("label-twice", Counter::define("twice", &["l", "l"]).is_some()),
        ];
        let config = ObserveConfig {
            requests: Counter::define("requests", &["method", "class"]).ok_or("requests")?,
            in_flight: Gauge::define("in_flight", &[]).ok_or("in_flight")?,
            body_bytes: Histogram::define("body_bytes", &[]).ok_or("body_bytes")?,
            by_user: Counter::define("by_user", &["user"]).ok_or("by_user")?,
            refused,
        };
        let mut refused = config.refused.clone();
        refused.push(("defined-twice", Counter::define("requests", &[]).is_some()));
        Ok(ObserveConfig { refused, ..config })
    }

    fn new_filter(&self) -> Observe {
        Observe {
            requests: self.requests,
            in_flight: self.in_flight,
            body_bytes: self.body_bytes,
            by_user: self.by_user,
            method: String::new(),
            results: Vec::new(),
        }
    }
}

struct Observe {
    requests: Counter,
    in_flight: Gauge,
    body_bytes: Histogram,
    by_user: Counter,
    method: String,
    results: Vec<(&'static str, bool)>,
}

impl Filter for Observe {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.method = stream.request_headers().get_str(":method").unwrap_or("-").to_string();
        self.in_flight.add(stream, &[], 1);
        if let Some(user) = stream.request_headers().get_str("x-user").map(str::to_string) {
            self.results.push(("by-user", self.by_user.increment(stream, &[&user])));
        }
        let refused = [
            ("too-few-labels", self.requests.increment(stream, &["GET"])),
            ("control-byte", self.requests.increment(stream, &["GET", "2\nxx"])),
            ("long-value", self.requests.increment(stream, &["GET", &"x".repeat(257)])),
        ];
        self.results.extend(refused);
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let class = stream
            .response_headers()
            .get_str(":status")
            .map_or("-".to_string(), |s| format!("{}xx", &s[..1]));
        let method = self.method.clone();
        self.results.push(("requests", self.requests.increment(stream, &[&method, &class])));
        let results: Vec<String> = self.results.iter().map(|(k, v)| format!("{k}={v}")).collect();
        stream.response_headers().set("x-results", results.join(","));
        HeadersStatus::Continue
    }

    fn on_stream_complete(&mut self, stream: &mut Stream) {
        self.in_flight.sub(stream, &[], 1);
        self.body_bytes.record(stream, &[], 42);
    }
}

fn host() -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<ObserveConfig>(), "observe", "").unwrap()
}

/// One exchange; returns the response's `x-results`.
fn exchange(host: &TestHost, method: &str, status: &str, user: Option<&str>) -> String {
    let mut stream = host.stream();
    let mut headers = vec![(":method", method), (":path", "/"), (":authority", "app")];
    if let Some(user) = user {
        headers.push(("x-user", user));
    }
    stream.request_headers(&headers, true);
    assert_eq!(host.metric("in_flight", &[]), Some(MetricValue::Gauge(1)), "one stream in flight");
    stream.response_headers(&[(":status", status)], true);
    let results = stream.client_response_headers().get("x-results").unwrap_or_default();
    stream.complete();
    results
}

#[test]
fn metrics_defined_at_config_creation_count_what_streams_record() {
    let host = host();
    let defs = host.metric_defs();
    let names: Vec<(&str, MetricKind, &[String])> =
        defs.iter().map(|d| (d.full_name.as_str(), d.kind, d.label_names.as_slice())).collect();
    assert_eq!(names.len(), 5, "the four good definitions and EnvoyX's overflow counter: {names:?}");
    assert_eq!(
        names[4],
        ("observe.envoyx_label_overflow", MetricKind::Counter, &["metric".to_string()][..]),
        "defined after the module's, since some have labels"
    );
    assert_eq!(
        names[0],
        ("observe.requests", MetricKind::Counter, &["method".to_string(), "class".to_string()][..])
    );
    for (name, kind) in
        [("observe.in_flight", MetricKind::Gauge), ("observe.body_bytes", MetricKind::Histogram)]
    {
        assert!(names.iter().any(|(n, k, _)| *n == name && *k == kind), "{name}: {names:?}");
    }
    for (method, status) in [("GET", "200"), ("GET", "204"), ("POST", "503")] {
        let results = exchange(&host, method, status, None);
        assert_eq!(results, "too-few-labels=false,control-byte=false,long-value=false,requests=true");
    }
    assert_eq!(host.metric("requests", &["GET", "2xx"]), Some(MetricValue::Counter(2)));
    assert_eq!(host.metric("requests", &["POST", "5xx"]), Some(MetricValue::Counter(1)));
    assert_eq!(host.metric("requests", &["POST", "2xx"]), None);
    assert_eq!(host.metric("in_flight", &[]), Some(MetricValue::Gauge(0)), "each stream went in and out");
    assert_eq!(host.metric("body_bytes", &[]), Some(MetricValue::Histogram(vec![42, 42, 42])));
    assert!(logged(
        "metric_define of `Requests` (filter `observe`) refused: the metric name `Requests` must be"
    ));
    assert!(logged("metric_define of `twice` (filter `observe`) refused: the label name `l` appears twice"));
    assert!(logged(
        "metric_define of `requests` (filter `observe`) refused: a metric named `requests` is already defined"
    ));
    assert!(logged(
        "metric_record of `requests` refused: it has 2 label(s) (method, class), 1 value(s) given"
    ));
}

#[test]
fn a_labelled_metric_takes_at_most_the_label_limit_of_combinations() {
    let host = host();
    let limit = envoyx_sdk::LABEL_LIMIT as usize;
    for user in 0..limit {
        assert!(exchange(&host, "GET", "200", Some(&format!("u{user}"))).starts_with("by-user=true"));
    }
    // A new combination past the limit is refused and said once; known ones still count.
    assert!(exchange(&host, "GET", "200", Some("one-too-many")).starts_with("by-user=false"));
    assert!(exchange(&host, "GET", "200", Some("another")).starts_with("by-user=false"));
    assert!(exchange(&host, "GET", "200", Some("u7")).starts_with("by-user=true"));
    assert_eq!(host.metric("by_user", &["u7"]), Some(MetricValue::Counter(2)));
    assert_eq!(host.metric("by_user", &["one-too-many"]), None);
    assert!(logged(&format!(
        "metric `by_user` reached {limit} label-value combinations; new combinations are not recorded (first: [\"one-too-many\"])"
    )));
    assert_eq!(
        host.metric("envoyx_label_overflow", &["by_user"]),
        Some(MetricValue::Counter(2)),
        "each record past the bound is counted"
    );
}

#[test]
fn a_configuration_bounds_its_metrics_and_folds_the_rest_into_an_overflow_value() {
    let limits = MetricLimits::new(3, "other").unwrap();
    let host = TestHost::in_process_with_limits(
        envoyx_sdk::module_exports::<ObserveConfig>(),
        "bounded",
        "",
        &limits,
    )
    .unwrap();
    for user in ["u0", "u1", "u2", "u3", "u4", "u1"] {
        assert!(exchange(&host, "GET", "200", Some(user)).starts_with("by-user=true"), "{user}: recorded");
    }
    for (user, count) in [("u0", 1), ("u1", 2), ("u2", 1), ("other", 2)] {
        assert_eq!(host.metric("by_user", &[user]), Some(MetricValue::Counter(count)), "{user}");
    }
    assert_eq!(host.metric("by_user", &["u3"]), None, "past the bound: folded into `other`");
    assert_eq!(host.metric("envoyx_label_overflow", &["by_user"]), Some(MetricValue::Counter(2)));
    // `requests` (method, class) has room for its three combinations here: GET/2xx only.
    assert_eq!(host.metric("requests", &["GET", "2xx"]), Some(MetricValue::Counter(6)));
    assert!(logged(
        "(filter `bounded`): metric `by_user` reached 3 label-value combinations; new combinations are recorded as `other` for every label (first: [\"u3\"])"
    ));
}

#[test]
fn a_configuration_bound_without_overflow_drops_and_counts() {
    let limits = MetricLimits::new(1, "").unwrap();
    let host =
        TestHost::in_process_with_limits(envoyx_sdk::module_exports::<ObserveConfig>(), "tight", "", &limits)
            .unwrap();
    assert!(exchange(&host, "GET", "200", Some("first")).starts_with("by-user=true"));
    assert!(exchange(&host, "GET", "200", Some("second")).starts_with("by-user=false"));
    assert!(exchange(&host, "GET", "200", Some("third")).starts_with("by-user=false"));
    assert_eq!(host.metric("by_user", &["first"]), Some(MetricValue::Counter(1)));
    assert_eq!(host.metric("by_user", &["second"]), None);
    assert_eq!(host.metric("envoyx_label_overflow", &["by_user"]), Some(MetricValue::Counter(2)));
    assert!(logged(
        "(filter `tight`): metric `by_user` reached 1 label-value combinations; new combinations are not recorded (first: [\"second\"])"
    ));
}

#[test]
fn metrics_are_defined_only_while_the_configuration_is_created() {
    // Outside FilterConfig::new (here: in a test, no configuration being created).
    assert_eq!(Counter::define("late", &[]), None);
}
