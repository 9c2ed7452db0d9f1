//! The statuses a module's event hooks return. Values equal Envoy's own enum ordinals, so a host
//! over Envoy hands them on as they are.

use envoyx_abi::*;

/// What a headers hook returned. Values equal Envoy's `FilterHeadersStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HeadersStatus {
    Continue = ENVOYX_HEADERS_CONTINUE,
    StopIteration = ENVOYX_HEADERS_STOP_ITERATION,
    ContinueAndDontEndStream = ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM,
    StopAllIterationAndBuffer = ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER,
    StopAllIterationAndWatermark = ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK,
}

/// What a body hook returned. Values equal Envoy's `FilterDataStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BodyStatus {
    Continue = ENVOYX_BODY_CONTINUE,
    StopIterationAndBuffer = ENVOYX_BODY_STOP_ITERATION_AND_BUFFER,
    StopIterationAndWatermark = ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK,
    StopIterationNoBuffer = ENVOYX_BODY_STOP_ITERATION_NO_BUFFER,
}

/// What a trailers hook returned. Values equal Envoy's `FilterTrailersStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TrailersStatus {
    Continue = ENVOYX_TRAILERS_CONTINUE,
    StopIteration = ENVOYX_TRAILERS_STOP_ITERATION,
}

impl HeadersStatus {
    pub(crate) fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_HEADERS_CONTINUE => Self::Continue,
            ENVOYX_HEADERS_STOP_ITERATION => Self::StopIteration,
            ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM => Self::ContinueAndDontEndStream,
            ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER => Self::StopAllIterationAndBuffer,
            ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK => Self::StopAllIterationAndWatermark,
            _ => return None,
        })
    }
    /// Whether this status stops the direction (the host holds it until a continue).
    pub fn stops(self) -> bool {
        !matches!(self, Self::Continue | Self::ContinueAndDontEndStream)
    }
}

impl BodyStatus {
    pub(crate) fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_BODY_CONTINUE => Self::Continue,
            ENVOYX_BODY_STOP_ITERATION_AND_BUFFER => Self::StopIterationAndBuffer,
            ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK => Self::StopIterationAndWatermark,
            ENVOYX_BODY_STOP_ITERATION_NO_BUFFER => Self::StopIterationNoBuffer,
            _ => return None,
        })
    }
}

impl TrailersStatus {
    pub(crate) fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_TRAILERS_CONTINUE => Self::Continue,
            ENVOYX_TRAILERS_STOP_ITERATION => Self::StopIteration,
            _ => return None,
        })
    }
}

impl BodyStatus {
    /// Whether this status stops the direction (the host holds it until a continue).
    pub fn stops(self) -> bool {
        self != Self::Continue
    }
}

impl TrailersStatus {
    /// Whether this status stops the direction (the host holds it until a continue).
    pub fn stops(self) -> bool {
        self != Self::Continue
    }
}

// The ABI value (equal to Envoy's enum ordinal), which hosts over Envoy hand on as it is.
impl From<HeadersStatus> for u32 {
    fn from(status: HeadersStatus) -> u32 {
        status as u32
    }
}

impl From<BodyStatus> for u32 {
    fn from(status: BodyStatus) -> u32 {
        status as u32
    }
}

impl From<TrailersStatus> for u32 {
    fn from(status: TrailersStatus) -> u32 {
        status as u32
    }
}
