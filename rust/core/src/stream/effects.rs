//! What a host must carry out after a call into a [`crate::Stream`] returns.
//!
//! A module ends or resumes its stream (local reply, reset, continue) by calling the host table.
//! The core never forwards such a call to the host while the module's hook runs: a proxy like
//! Envoy calls filters back synchronously from `sendLocalReply`, `resetStream` and
//! `continueDecoding`, which would re-enter a stream that is still in use. Instead the core
//! records the call, applies the stream rules to it (see [`crate::Stream`]), and returns the
//! result with the event's status as an [`Outcome`]. The host then carries out the
//! [`Action`]s, in order, after the call has returned and before it hands the status to its proxy.

use crate::vocab::{Direction, ResetReason};
use std::collections::VecDeque;

/// One thing the host must do to the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Abort the stream for the client and the upstream, telling the client this.
    Reset(ResetReason),
    /// End the stream as a reset does and close the client's connection (ABI 1.2
    /// `send_goaway_and_close`; Envoy's sendGoAwayAndClose): GOAWAY first on HTTP/2 and 3;
    /// `graceful` lets the connection's other streams finish.
    GoAway { graceful: bool },
    /// Answer the client with this reply instead of what the stream would have produced.
    LocalReply(Box<OwnedLocalReply>),
    /// Resume a direction the module had stopped (Envoy's continueDecoding/continueEncoding).
    Continue(Direction),
    /// Start the request over (ABI 1.2 `recreate_stream`, Envoy's recreateStream): end this
    /// stream and run the request again from the filter chain's start. Carries the response
    /// headers that made the module do so (checked; may be empty), for the proxy's access log.
    Recreate(Vec<(Vec<u8>, Vec<u8>)>),
    /// Send the next part of the module's own response (ABI 1.2 `send_response_*`: the module
    /// answers the stream itself, as a terminal filter). Parts come in the order sent.
    Answer(AnswerPart),
}

/// One part of a response the module sends itself, checked by the core (`answer.rs`): headers
/// once, then data, then trailers at most once; `end_of_stream` on the part that ends it
/// (trailers always do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerPart {
    /// Status 200-599 and headers as a local reply's (lower-case names, no pseudo-headers).
    Headers {
        status: u32,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        end_of_stream: bool,
    },
    Data {
        data: Vec<u8>,
        end_of_stream: bool,
    },
    Trailers(Vec<(Vec<u8>, Vec<u8>)>),
}

impl AnswerPart {
    /// Whether this part ends the response.
    pub fn ends(&self) -> bool {
        match self {
            AnswerPart::Headers { end_of_stream, .. } | AnswerPart::Data { end_of_stream, .. } => {
                *end_of_stream
            }
            AnswerPart::Trailers(_) => true,
        }
    }
}

/// A local reply the core accepted: status in 200–599, headers checked and lower-cased
/// (never pseudo-headers), details free of whitespace and control bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedLocalReply {
    pub status: u32,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Envoy's response-code details, e.g. `envoyx_unauthorized`; may be empty.
    pub details: Vec<u8>,
}

/// How a stream is ended for the client (the last one asked for wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Reset(ResetReason),
    GoAway { graceful: bool },
}

/// The actions one call produced, already reduced by the stream rules: a reset wins over a
/// local reply and a start over, they over continues; each direction continues at most once; the parts
/// of the module's own response keep their order (a reset drops them, and the rules never let a
/// local reply or a request continue meet them).
#[must_use = "the host must carry out the actions the module asked for"]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// A reset, or a GOAWAY that ends the stream as one.
    reset: Option<Ending>,
    reply: Option<Box<OwnedLocalReply>>,
    /// `recreate_stream`: the response headers to hand the proxy.
    recreate: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    /// Indexed by `Direction as usize`.
    continues: [bool; 2],
    /// The module's own response, in the order sent.
    answer: VecDeque<AnswerPart>,
}

impl Effects {
    /// No action.
    pub const NONE: Effects = Effects {
        reset: None,
        reply: None,
        recreate: None,
        continues: [false, false],
        answer: VecDeque::new(),
    };

    /// Whether there is nothing to do.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.reset.is_none()
            && self.reply.is_none()
            && self.recreate.is_none()
            && self.continues == [false, false]
            && self.answer.is_empty()
    }

    /// Whether this ends the stream's processing (a reset, a local reply, a start over).
    pub fn ends_stream(&self) -> bool {
        self.reset.is_some() || self.reply.is_some() || self.recreate.is_some()
    }

    /// The next action to carry out, in the order that keeps the stream consistent: a reset or a
    /// local reply comes alone; otherwise the module's own response parts in order, then the
    /// request continues before the response.
    pub fn next_action(&mut self) -> Option<Action> {
        if let Some(ending) = self.reset.take() {
            *self = Effects::NONE;
            return Some(match ending {
                Ending::Reset(reason) => Action::Reset(reason),
                Ending::GoAway { graceful } => Action::GoAway { graceful },
            });
        }
        if let Some(reply) = self.reply.take() {
            *self = Effects::NONE;
            return Some(Action::LocalReply(reply));
        }
        if let Some(headers) = self.recreate.take() {
            *self = Effects::NONE;
            return Some(Action::Recreate(headers));
        }
        if !self.answer.is_empty() {
            return self.answer.pop_front().map(Action::Answer);
        }
        for direction in [Direction::Request, Direction::Response] {
            if std::mem::take(&mut self.continues[direction as usize]) {
                return Some(Action::Continue(direction));
            }
        }
        None
    }

    /// Adds the actions of a later call to these (a host that keeps actions across calls, such as
    /// the C++ loader, when a call re-enters while it carries them out), under the same rules.
    pub fn merge(&mut self, later: Effects) {
        if let Some(ending) = later.reset {
            self.record_ending(ending);
        } else if self.reset.is_some() {
            return;
        }
        if let Some(reply) = later.reply {
            self.reply = Some(reply);
            self.continues = [false, false];
        }
        if later.recreate.is_some() {
            self.recreate = later.recreate;
        }
        self.answer.extend(later.answer);
        if self.reply.is_none() {
            for (mine, theirs) in self.continues.iter_mut().zip(later.continues) {
                *mine |= theirs;
            }
        }
    }

    /// The directions to continue (request first).
    pub fn continues(&self) -> impl Iterator<Item = Direction> + '_ {
        [Direction::Request, Direction::Response].into_iter().filter(|d| self.continues[*d as usize])
    }

    /// A later reset's reason replaces an earlier one's.
    pub(crate) fn record_reset(&mut self, reason: ResetReason) {
        self.record_ending(Ending::Reset(reason));
    }

    /// A GOAWAY ends the stream as a reset does (and replaces one asked for earlier).
    pub(crate) fn record_goaway(&mut self, graceful: bool) {
        self.record_ending(Ending::GoAway { graceful });
    }

    fn record_ending(&mut self, ending: Ending) {
        self.reset = Some(ending);
        self.reply = None;
        self.recreate = None;
        self.continues = [false, false];
        self.answer.clear();
    }

    pub(crate) fn record_reply(&mut self, reply: OwnedLocalReply) {
        self.reply = Some(Box::new(reply));
        self.continues = [false, false];
    }

    pub(crate) fn record_continue(&mut self, direction: Direction) {
        self.continues[direction as usize] = true;
    }

    /// A start over comes alone (after a reset or a reply, which the rules never let meet it).
    pub(crate) fn record_recreate(&mut self, response_headers: Vec<(Vec<u8>, Vec<u8>)>) {
        self.recreate = Some(response_headers);
        self.continues = [false, false];
    }

    pub(crate) fn record_answer(&mut self, part: AnswerPart) {
        self.answer.push_back(part);
    }

    /// The bytes of response data queued so far (bounded per call: `answer.rs`).
    pub(crate) fn answer_bytes(&self) -> usize {
        self.answer
            .iter()
            .map(|part| if let AnswerPart::Data { data, .. } = part { data.len() } else { 0 })
            .sum()
    }
}

impl Iterator for Effects {
    type Item = Action;
    fn next(&mut self) -> Option<Action> {
        self.next_action()
    }
}

/// An event's result: the status to hand the proxy and the actions to carry out first.
#[must_use = "the host must carry out the effects before returning the status"]
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome<S> {
    pub status: S,
    pub effects: Effects,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> OwnedLocalReply {
        OwnedLocalReply { status: 401, headers: vec![], body: b"no".to_vec(), details: vec![] }
    }

    #[test]
    fn reset_wins_over_reply_and_reply_over_continues() {
        let mut e = Effects::default();
        e.record_continue(Direction::Response);
        e.record_reply(reply());
        e.record_continue(Direction::Request);
        e.record_reset(ResetReason::Local);
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::Reset(ResetReason::Local)]);

        let mut e = Effects::default();
        e.record_continue(Direction::Request);
        e.record_reply(reply());
        assert!(e.ends_stream());
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::LocalReply(Box::new(reply()))]);
    }

    #[test]
    fn merge_keeps_the_rules() {
        let mut e = Effects::default();
        e.record_continue(Direction::Request);
        let mut later = Effects::default();
        later.record_continue(Direction::Response);
        e.merge(later);
        assert_eq!(e.collect::<Vec<_>>().len(), 2);
        let mut e = Effects::default();
        e.record_reset(ResetReason::Refused);
        let mut later = Effects::default();
        later.record_reply(reply());
        e.merge(later);
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::Reset(ResetReason::Refused)]);
        // A later reset's reason replaces an earlier one's.
        let mut e = Effects::default();
        e.record_reset(ResetReason::Refused);
        let mut later = Effects::default();
        later.record_reset(ResetReason::Local);
        e.merge(later);
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::Reset(ResetReason::Local)]);
        let mut e = Effects::default();
        e.record_continue(Direction::Request);
        let mut later = Effects::default();
        later.record_reply(reply());
        e.merge(later);
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::LocalReply(Box::new(reply()))]);
    }

    #[test]
    fn answer_parts_keep_their_order_and_a_reset_drops_them() {
        let headers = AnswerPart::Headers { status: 200, headers: vec![], end_of_stream: false };
        let data = AnswerPart::Data { data: b"a".to_vec(), end_of_stream: false };
        let trailers = AnswerPart::Trailers(vec![(b"x".to_vec(), b"1".to_vec())]);
        let mut e = Effects::default();
        e.record_answer(headers.clone());
        e.record_answer(data.clone());
        let mut later = Effects::default();
        later.record_answer(trailers.clone());
        e.merge(later);
        assert_eq!(e.answer_bytes(), 1);
        assert_eq!(
            e.collect::<Vec<_>>(),
            vec![Action::Answer(headers.clone()), Action::Answer(data.clone()), Action::Answer(trailers)]
        );
        let mut e = Effects::default();
        e.record_answer(headers);
        let mut later = Effects::default();
        later.record_reset(ResetReason::Local);
        e.merge(later);
        assert_eq!(e.collect::<Vec<_>>(), vec![Action::Reset(ResetReason::Local)]);
    }

    #[test]
    fn continues_come_request_first_once_each() {
        let mut e = Effects::default();
        e.record_continue(Direction::Response);
        e.record_continue(Direction::Request);
        e.record_continue(Direction::Request);
        assert!(!e.ends_stream() && !e.is_empty());
        assert_eq!(
            e.collect::<Vec<_>>(),
            vec![Action::Continue(Direction::Request), Action::Continue(Direction::Response)]
        );
        assert!(Effects::NONE.is_empty());
    }
}
