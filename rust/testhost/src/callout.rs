//! HTTP callouts on the test host: the module's requests are recorded, and the test answers
//! each one (a response, or a failure) when it chooses, as a cluster would. Streaming callouts
//! likewise: what the module sends is added to the record, and the test plays the cluster's
//! side event by event ([`CalloutStreamEvent`]).

use std::time::Duration;

use envoyx_abi::{envoyx_bytes, envoyx_header};
use envoyx_core::{Callout, CalloutStatus, Effects};

/// A callout the module started and the test has not answered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCallout {
    pub id: u64,
    pub cluster: String,
    /// In the order the module gave them, pseudo-headers included (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// The request body so far (for a streaming callout: every chunk sent, in order).
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// Started with `callout_stream_start`.
    pub streaming: bool,
    /// The request ended (always, for a callout that is not streaming).
    pub request_ended: bool,
    /// The trailers that ended a streaming callout's request.
    pub trailers: Option<Vec<(String, String)>>,
}

impl RecordedCallout {
    pub(crate) fn of(id: u64, callout: &Callout<'_>) -> Self {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Self {
            id,
            cluster: text(callout.cluster),
            headers: callout.headers.iter().map(|(k, v)| (text(k), text(v))).collect(),
            body: callout.body.to_vec(),
            timeout: Duration::from_millis(callout.timeout_ms),
            streaming: false,
            request_ended: true,
            trailers: None,
        }
    }

    pub(crate) fn streaming(id: u64, callout: &Callout<'_>, end_of_stream: bool) -> Self {
        Self { streaming: true, request_ended: end_of_stream, ..Self::of(id, callout) }
    }

    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// How the test answers a callout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalloutAnswer {
    /// A response: `status` (sent as `:status`, first), headers, and the body in chunks (the
    /// module sees each chunk as one slice).
    Response { status: u16, headers: Vec<(String, String)>, body: Vec<Vec<u8>> },
    /// No response, for this reason.
    Failed(CalloutStatus),
}

/// One step of the cluster's side of a streaming callout, as the test plays it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalloutStreamEvent {
    /// The response headers: `status` (sent as `:status`, first) and the others.
    Headers {
        status: u16,
        headers: Vec<(String, String)>,
        end_of_stream: bool,
    },
    /// Body chunks (the module sees each as one slice).
    Data {
        chunks: Vec<Vec<u8>>,
        end_of_stream: bool,
    },
    Trailers(Vec<(String, String)>),
    Complete,
    Failed(CalloutStatus),
}

impl CalloutStreamEvent {
    /// Calls `f` with the event as the host's views of it.
    pub(crate) fn with_views<R>(&self, f: impl FnOnce(envoyx_core::CalloutEvent<'_>) -> R) -> R {
        use envoyx_core::CalloutEvent as E;
        let views = |pairs: &[(String, String)]| -> Vec<envoyx_header> {
            pairs
                .iter()
                .map(|(k, v)| envoyx_header {
                    key: envoyx_bytes::from_slice(k.as_bytes()),
                    value: envoyx_bytes::from_slice(v.as_bytes()),
                })
                .collect()
        };
        match self {
            CalloutStreamEvent::Headers { status, headers, end_of_stream } => {
                let mut all = vec![(":status".to_string(), status.to_string())];
                all.extend(headers.iter().cloned());
                f(E::Headers { headers: &views(&all), end_of_stream: *end_of_stream })
            }
            CalloutStreamEvent::Data { chunks, end_of_stream } => {
                let chunks: Vec<envoyx_bytes> = chunks.iter().map(|c| envoyx_bytes::from_slice(c)).collect();
                f(E::Data { chunks: &chunks, end_of_stream: *end_of_stream })
            }
            CalloutStreamEvent::Trailers(trailers) => f(E::Trailers { trailers: &views(trailers) }),
            CalloutStreamEvent::Complete => f(E::Complete),
            CalloutStreamEvent::Failed(status) => f(E::Failed(*status)),
        }
    }

    /// Whether nothing follows this event.
    pub fn is_last(&self) -> bool {
        matches!(self, CalloutStreamEvent::Complete | CalloutStreamEvent::Failed(_))
    }
}

/// Delivers `answer` to the core's stream as the host's views of it.
pub(crate) fn deliver(core: &mut envoyx_core::Stream, id: u64, answer: &CalloutAnswer) -> Effects {
    with_views(answer, |status, headers, body| core.on_callout_done(id, status, headers, body))
}

/// Calls `f` with `answer` as the host's views of it (status, headers with `:status` first,
/// body chunks).
pub(crate) fn with_views<R>(
    answer: &CalloutAnswer,
    f: impl FnOnce(CalloutStatus, &[envoyx_header], &[envoyx_bytes]) -> R,
) -> R {
    match answer {
        CalloutAnswer::Failed(status) => f(*status, &[], &[]),
        CalloutAnswer::Response { status, headers, body } => {
            let status = status.to_string();
            let mut views = vec![envoyx_header {
                key: envoyx_bytes::from_slice(b":status"),
                value: envoyx_bytes::from_slice(status.as_bytes()),
            }];
            views.extend(headers.iter().map(|(k, v)| envoyx_header {
                key: envoyx_bytes::from_slice(k.as_bytes()),
                value: envoyx_bytes::from_slice(v.as_bytes()),
            }));
            let chunks: Vec<envoyx_bytes> = body.iter().map(|c| envoyx_bytes::from_slice(c)).collect();
            f(CalloutStatus::Response, &views, &chunks)
        }
    }
}
