//! Tracing beyond a tag (ABI 1.2 `span_*`) under the core's rules, in process with the test
//! host's tracer on: child spans across hooks and nested, their tags, logs and sampling,
//! baggage and the trace id; numbers that are not open refused; spans left open finished when
//! the stream ends; at most 64 open. Envoy's Zipkin tracer shows the same
//! (`rust/stock-host/tests/stream_info.rs`).

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, SpanId, Stream};
use envoyx_testhost::{TestHost, logged};

struct TracedConfig(String);

struct Traced {
    behaviour: String,
    outer: Option<SpanId>,
    notes: Vec<String>,
}

impl FilterConfig for TracedConfig {
    type Filter = Traced;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(TracedConfig(String::from_utf8_lossy(config).into_owned()))
    }

    fn new_filter(&self) -> Traced {
        Traced { behaviour: self.0.clone(), outer: None, notes: Vec::new() }
    }
}

impl Filter for Traced {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match self.behaviour.as_str() {
            "spans" => {
                let outer = stream.start_child_span(SpanId::ACTIVE, "outer").expect("a tracer");
                let inner = stream.start_child_span(outer, "inner").expect("a tracer");
                stream.span_tag(inner, "step", "inner");
                stream.span_log(inner, "done");
                stream.span_set_sampled(inner, false);
                self.notes.push(format!("finish={}", stream.finish_span(inner)));
                self.notes.push(format!("again={}", stream.finish_span(inner)));
                self.notes.push(format!("tag-finished={}", stream.span_tag(inner, "late", "x")));
                stream.set_baggage("tenant", "acme");
                self.notes.push(format!("baggage={}", stream.baggage("tenant").unwrap_or_default()));
                self.notes.push(format!("trace={}", stream.trace_id().unwrap_or_default()));
                self.outer = Some(outer);
            }
            "many" => {
                let opened = (0..70).filter_map(|_| stream.start_child_span(SpanId::ACTIVE, "leaf")).count();
                self.notes.push(format!("opened={opened}"));
            }
            _ => {}
        }
        let notes = self.notes.join(",");
        stream.request_headers().set("x-notes", notes);
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        // The outer span lives across hooks; tagged here, left open for the core to finish.
        if let Some(outer) = self.outer {
            stream.span_tag(outer, "status", "seen");
        }
        HeadersStatus::Continue
    }
}

fn host(name: &str, behaviour: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<TracedConfig>(), name, behaviour).unwrap()
}

#[test]
fn child_spans_live_across_hooks_and_the_core_finishes_what_is_left_open() {
    let host = host("traced", "spans");
    let mut stream = host.stream();
    stream.enable_tracing();
    stream.request_headers(&[(":path", "/")], true);
    let trace = stream.trace_id();
    assert_eq!(
        stream.upstream_request_headers().get("x-notes").as_deref(),
        Some(format!("finish=true,again=false,tag-finished=false,baggage=acme,trace={trace}").as_str())
    );
    stream.response_headers(&[(":status", "200")], true);
    let spans = stream.spans();
    assert_eq!((spans[0].id, spans[0].parent, spans[0].operation.as_str()), (1, 0, "outer"));
    assert_eq!(spans[0].tags, [("status".to_string(), "seen".to_string())]);
    assert!(!spans[0].finished, "open until the stream ends");
    assert_eq!((spans[1].id, spans[1].parent, spans[1].operation.as_str()), (2, 1, "inner"));
    assert_eq!(spans[1].logs, ["done"]);
    assert_eq!(spans[1].sampled, Some(false));
    assert!(spans[1].finished);
    assert!(logged("span_finish of span 2 refused: span 2 is not open (finished, or never started)"));
    stream.complete();
    assert!(stream.spans()[0].finished, "the core finished the span the module left open");
    assert_eq!(stream.baggage(), [("tenant".to_string(), "acme".to_string())]);
}

#[test]
fn at_most_64_child_spans_are_open_at_once() {
    let host = host("traced-many", "many");
    let mut stream = host.stream();
    stream.enable_tracing();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-notes").as_deref(), Some("opened=64"));
    assert!(logged("64 child spans are open already (finish some)"));
}
