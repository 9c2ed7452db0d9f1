//! The vocabulary both wings and every host share: plain enums mirroring the ABI's (which map,
//! which direction, which body). No behaviour, no imports of the core.

/// Which header map: request/response headers or trailers. Mirrors `envoyx_header_map`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum HeaderMapKind {
    RequestHeaders = envoyx_abi::ENVOYX_REQUEST_HEADERS,
    RequestTrailers = envoyx_abi::ENVOYX_REQUEST_TRAILERS,
    ResponseHeaders = envoyx_abi::ENVOYX_RESPONSE_HEADERS,
    ResponseTrailers = envoyx_abi::ENVOYX_RESPONSE_TRAILERS,
}

impl HeaderMapKind {
    pub fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            envoyx_abi::ENVOYX_REQUEST_HEADERS => Self::RequestHeaders,
            envoyx_abi::ENVOYX_REQUEST_TRAILERS => Self::RequestTrailers,
            envoyx_abi::ENVOYX_RESPONSE_HEADERS => Self::ResponseHeaders,
            envoyx_abi::ENVOYX_RESPONSE_TRAILERS => Self::ResponseTrailers,
            _ => return None,
        })
    }
}

/// A direction of a stream. Mirrors `envoyx_direction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Direction {
    Request = envoyx_abi::ENVOYX_DIRECTION_REQUEST,
    Response = envoyx_abi::ENVOYX_DIRECTION_RESPONSE,
}

impl Direction {
    pub fn from_abi(value: u32) -> Option<Self> {
        match value {
            envoyx_abi::ENVOYX_DIRECTION_REQUEST => Some(Self::Request),
            envoyx_abi::ENVOYX_DIRECTION_RESPONSE => Some(Self::Response),
            _ => None,
        }
    }
}

/// What a reset tells the client. Mirrors `envoyx_reset_reason` (ABI 1.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ResetReason {
    /// Aborted (Envoy's LocalReset): what `reset_stream` and the core's own resets do.
    #[default]
    Local = envoyx_abi::ENVOYX_RESET_LOCAL,
    /// Refused before any of it was processed (Envoy's LocalRefusedStreamReset: HTTP/2
    /// REFUSED_STREAM), so the client may retry it elsewhere.
    Refused = envoyx_abi::ENVOYX_RESET_REFUSED,
}

impl ResetReason {
    pub fn from_abi(value: u32) -> Option<Self> {
        [Self::Local, Self::Refused].into_iter().find(|r| *r as u32 == value)
    }
}

/// What a module says of a local reply (ABI 1.2 `envoyx_on_stream_local_reply`). Mirrors
/// `envoyx_local_reply_status` (Envoy's LocalErrorStatus).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum LocalReplyStatus {
    /// The reply goes on.
    #[default]
    Continue = envoyx_abi::ENVOYX_LOCAL_REPLY_CONTINUE,
    /// Reset the stream instead (Envoy's ContinueAndResetStream).
    Reset = envoyx_abi::ENVOYX_LOCAL_REPLY_RESET,
}

impl LocalReplyStatus {
    pub fn from_abi(value: u32) -> Option<Self> {
        [Self::Continue, Self::Reset].into_iter().find(|s| *s as u32 == value)
    }
}

/// Which body: the chunk the current hook carries, or what was buffered. Mirrors
/// `envoyx_body_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum BodyKind {
    RequestReceived = envoyx_abi::ENVOYX_BODY_REQUEST_RECEIVED,
    RequestBuffered = envoyx_abi::ENVOYX_BODY_REQUEST_BUFFERED,
    ResponseReceived = envoyx_abi::ENVOYX_BODY_RESPONSE_RECEIVED,
    ResponseBuffered = envoyx_abi::ENVOYX_BODY_RESPONSE_BUFFERED,
}

impl BodyKind {
    pub fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            envoyx_abi::ENVOYX_BODY_REQUEST_RECEIVED => Self::RequestReceived,
            envoyx_abi::ENVOYX_BODY_REQUEST_BUFFERED => Self::RequestBuffered,
            envoyx_abi::ENVOYX_BODY_RESPONSE_RECEIVED => Self::ResponseReceived,
            envoyx_abi::ENVOYX_BODY_RESPONSE_BUFFERED => Self::ResponseBuffered,
            _ => return None,
        })
    }

    pub fn direction(self) -> Direction {
        match self {
            Self::RequestReceived | Self::RequestBuffered => Direction::Request,
            Self::ResponseReceived | Self::ResponseBuffered => Direction::Response,
        }
    }

    pub fn is_received(self) -> bool {
        matches!(self, Self::RequestReceived | Self::ResponseReceived)
    }
}
