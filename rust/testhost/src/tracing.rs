//! The test host's tracer: off until the test turns it on ([`crate::TestStream::enable_tracing`]),
//! then one active span per stream (trace id `00000000000000000000000000000001`-style, the
//! stream's number) and the child spans the module starts (ABI 1.2 `span_*`), recorded for the
//! test to read ([`crate::TestStream::spans`]).

use envoyx_abi::envoyx_bytes;

/// A child span the module started, as the test host recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedSpan {
    /// The core's number for it, and its parent's (0: the active span).
    pub id: u64,
    pub parent: u64,
    pub operation: String,
    pub tags: Vec<(String, String)>,
    pub logs: Vec<String>,
    /// The sampling decision the module set, if it did.
    pub sampled: Option<bool>,
    pub finished: bool,
}

/// One stream's spans.
#[derive(Default)]
pub(crate) struct Tracer {
    /// Whether there is a tracer (the test turned it on).
    pub on: bool,
    pub trace_id: String,
    /// The active span's tags, sampling decision and baggage.
    pub active_tags: Vec<(String, String)>,
    pub active_sampled: Option<bool>,
    pub baggage: Vec<(String, String)>,
    pub spans: Vec<RecordedSpan>,
    /// What the last baggage or trace-id read handed out (its view points here).
    text: Vec<u8>,
}

impl Tracer {
    pub fn enable(&mut self, stream_number: u64) {
        self.on = true;
        self.trace_id = format!("{stream_number:032x}");
    }

    fn child(&mut self, id: u64) -> Option<&mut RecordedSpan> {
        self.spans.iter_mut().find(|span| span.id == id && !span.finished)
    }

    pub fn start_child(&mut self, parent: u64, id: u64, operation: &str) -> bool {
        if !self.on || (parent != 0 && self.child(parent).is_none()) {
            return false;
        }
        self.spans.push(RecordedSpan {
            id,
            parent,
            operation: operation.to_string(),
            ..RecordedSpan::default()
        });
        true
    }

    pub fn tag(&mut self, span: u64, key: &str, value: &str) -> bool {
        let tag = (key.to_string(), value.to_string());
        match span {
            _ if !self.on => false,
            0 => {
                self.active_tags.push(tag);
                true
            }
            _ => self.child(span).map(|span| span.tags.push(tag)).is_some(),
        }
    }

    pub fn log(&mut self, span: u64, event: &str) -> bool {
        // The active span's logs are Envoy's business; the test reads the children's.
        self.on && (span == 0 || self.child(span).map(|span| span.logs.push(event.to_string())).is_some())
    }

    pub fn set_sampled(&mut self, span: u64, sampled: bool) -> bool {
        match span {
            _ if !self.on => false,
            0 => {
                self.active_sampled = Some(sampled);
                true
            }
            _ => self.child(span).map(|span| span.sampled = Some(sampled)).is_some(),
        }
    }

    pub fn finish(&mut self, span: u64) -> bool {
        self.child(span).map(|span| span.finished = true).is_some()
    }

    pub fn set_baggage(&mut self, key: &str, value: &str) -> bool {
        if self.on {
            self.baggage.retain(|(k, _)| k != key);
            self.baggage.push((key.to_string(), value.to_string()));
        }
        self.on
    }

    pub fn baggage(&mut self, key: &str) -> Option<envoyx_bytes> {
        let value = self.baggage.iter().find(|(k, _)| k == key)?.1.clone();
        Some(self.hand_out(value.into_bytes()))
    }

    pub fn trace_id(&mut self) -> Option<envoyx_bytes> {
        self.on.then(|| self.trace_id.clone().into_bytes()).map(|id| self.hand_out(id))
    }

    fn hand_out(&mut self, text: Vec<u8>) -> envoyx_bytes {
        self.text = text;
        envoyx_bytes::from_slice(&self.text)
    }
}
