//! A stream for C++: the core's state machine, and the actions it decided, taken one at a time.

use envoyx_core::{Action, AnswerPart, Direction, Effects};

use crate::ffi;
use crate::views::{callout_status, shared_views};

/// A stream for C++: the core's state machine. Event methods return the module's status as
/// Envoy's own enum ordinal (`ENVOYX_HEADERS_*`, `ENVOYX_BODY_*`, `ENVOYX_TRAILERS_*`), and an
/// error only when the host drove the stream out of order. What the host must carry out is kept
/// here until C++ takes it with [`Stream::next_action`], after the call has returned.
pub struct Stream {
    core: envoyx_core::Stream,
    /// Actions not yet taken. A call that re-enters while C++ carries out an action adds its own
    /// under the core's rules ([`Effects::merge`]).
    pending: Effects,
}

type EventResult = Result<u32, envoyx_core::EventOrderError>;

impl Stream {
    /// The C++ face of the core's `stream`.
    pub(crate) fn over(core: envoyx_core::Stream) -> Self {
        Stream { core, pending: Effects::NONE }
    }

    fn keep<S: Into<u32>>(&mut self, outcome: envoyx_core::Outcome<S>) -> u32 {
        self.pending.merge(outcome.effects);
        outcome.status.into()
    }
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_request_headers(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_request_body(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_request_body(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_request_trailers(&mut self) -> EventResult {
        let outcome = self.core.on_request_trailers()?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_headers(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_response_headers(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_body(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_response_body(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_trailers(&mut self) -> EventResult {
        let outcome = self.core.on_response_trailers()?;
        Ok(self.keep(outcome))
    }

    /// A new stream of this stream's configuration on `host`; see
    /// [`envoyx_core::Stream::new_like`].
    pub fn new_like(
        &self,
        host: cxx::UniquePtr<ffi::StreamHost>,
    ) -> Result<Box<Stream>, crate::config::NullHost> {
        if host.is_null() {
            return Err(crate::config::NullHost);
        }
        Ok(Box::new(Stream::over(self.core.new_like(Box::new(crate::host::CxxHost(host))))))
    }

    /// The proxy's flow-control news; see [`envoyx_core::Stream::on_watermark`].
    pub fn on_watermark(&mut self, direction: ffi::Direction, above: bool) {
        let direction =
            if direction == ffi::Direction::Request { Direction::Request } else { Direction::Response };
        self.core.on_watermark(direction, above);
    }

    /// A local reply is being made; see [`envoyx_core::Stream::on_local_reply`].
    pub fn on_local_reply(&mut self, status: u32, details: &[u8], reset_imminent: bool) -> u32 {
        self.core.on_local_reply(status, details, reset_imminent) as u32
    }

    /// A wake-up of the host's `Scheduler` has reached the worker thread: the core runs the next
    /// queued item (a continue, or the module's scheduled hook); see
    /// [`envoyx_core::Stream::on_scheduled`]. Returns whether it produced actions to carry out
    /// (taken with [`Stream::next_action`]).
    pub fn on_scheduled(&mut self) -> bool {
        let effects = self.core.on_scheduled();
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// The proxy's answer to callout `id` (`status` an `envoyx_callout_status`; views valid during
    /// this call); see [`envoyx_core::Stream::on_callout_done`]. Returns whether it produced
    /// actions to carry out.
    pub fn on_callout_done(
        &mut self,
        id: u64,
        status: u32,
        headers: &[ffi::RawHeader],
        body: &[ffi::RawBytes],
    ) -> bool {
        let (headers, body) = shared_views(headers, body);
        let effects = self.core.on_callout_done(id, callout_status(status), headers, body);
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// News of the module's streaming callout `id` (`event` an `envoyx_callout_event`, `status` an
    /// `envoyx_callout_status`; views valid during this call); see
    /// [`envoyx_core::Stream::on_callout_event`]. Returns whether it produced actions to carry out.
    pub fn on_callout_event(
        &mut self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) -> bool {
        let (headers, data) = shared_views(headers, data);
        let event = envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream);
        let effects = self.core.on_callout_event(id, event);
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// The next action to carry out (`ActionKind::None` when there is none), in the order the
    /// core's rules give: a reset or a local reply alone, otherwise request before response.
    pub fn next_action(&mut self) -> ffi::NextAction {
        let none = ffi::LocalReply { status: 0, headers: Vec::new(), body: Vec::new(), details: Vec::new() };
        let owned = |pairs: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<ffi::ReplyHeader> {
            pairs.into_iter().map(|(key, value)| ffi::ReplyHeader { key, value }).collect()
        };
        let mut reset_reason = ffi::ResetReason::Local;
        let mut end_of_stream = false;
        let (kind, direction, reply) = match self.pending.next_action() {
            None => (ffi::ActionKind::None, Direction::Request, none),
            Some(Action::Reset(reason)) => {
                if reason == envoyx_core::ResetReason::Refused {
                    reset_reason = ffi::ResetReason::Refused;
                }
                (ffi::ActionKind::Reset, Direction::Request, none)
            }
            Some(Action::Continue(direction)) => (ffi::ActionKind::Continue, direction, none),
            Some(Action::GoAway { graceful }) => {
                end_of_stream = graceful;
                (ffi::ActionKind::GoAway, Direction::Request, none)
            }
            Some(Action::LocalReply(reply)) => {
                let reply = *reply;
                let reply = ffi::LocalReply {
                    status: reply.status,
                    headers: owned(reply.headers),
                    body: reply.body,
                    details: reply.details,
                };
                (ffi::ActionKind::LocalReply, Direction::Response, reply)
            }
            Some(Action::Answer(AnswerPart::Headers { status, headers, end_of_stream: end })) => {
                end_of_stream = end;
                let reply = ffi::LocalReply { status, headers: owned(headers), ..none };
                (ffi::ActionKind::AnswerHeaders, Direction::Response, reply)
            }
            Some(Action::Answer(AnswerPart::Data { data, end_of_stream: end })) => {
                end_of_stream = end;
                (ffi::ActionKind::AnswerData, Direction::Response, ffi::LocalReply { body: data, ..none })
            }
            Some(Action::Recreate(response_headers)) => {
                let reply = ffi::LocalReply { headers: owned(response_headers), ..none };
                (ffi::ActionKind::Recreate, Direction::Request, reply)
            }
            Some(Action::Answer(AnswerPart::Trailers(trailers))) => {
                let reply = ffi::LocalReply { headers: owned(trailers), ..none };
                (ffi::ActionKind::AnswerTrailers, Direction::Response, reply)
            }
        };
        ffi::NextAction { kind, direction: direction.into(), reply, reset_reason, end_of_stream }
    }

    /// Whether the response has gone on past this filter towards the client.
    pub fn response_started(&self) -> bool {
        self.core.response_started()
    }

    /// The stream is over: the module's complete hook runs once; actions not yet taken are
    /// dropped (nothing can be done to a stream that is over).
    pub fn on_stream_complete(&mut self) {
        self.core.on_stream_complete();
        self.pending = Effects::NONE;
    }
    pub fn body_bytes_copied(&self) -> u64 {
        self.core.body_bytes_copied()
    }
    pub fn local_reply_sent(&self) -> bool {
        self.core.local_reply_sent()
    }
    pub fn continues_ignored(&self) -> u64 {
        self.core.continues_ignored()
    }
}
