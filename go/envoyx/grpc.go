package envoyx

// gRPC unary calls over a streaming callout, as the Rust SDK's envoyx_sdk::grpc makes them: the
// request message framed as gRPC frames it, grpc-timeout from the deadline, and the answer's
// frames, grpc-status and grpc-message (from the trailers, or from the headers of a
// trailers-only answer) turned into the response message or a *GrpcError. Messages are bytes:
// encode and decode them with the protobuf library of your choice. Envoy's cluster must speak
// HTTP/2 to the gRPC server.

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GrpcCall is one unary call: the method's path (/package.Service/Method), the serialized
// request message, the deadline (sent as grpc-timeout and used as the callout's timeout), extra
// request metadata (lower-case names, no pseudo-headers) and the :authority (the cluster's name
// when empty).
type GrpcCall struct {
	Path      string
	Message   []byte
	Timeout   time.Duration
	Metadata  [][2]string
	Authority string
}

// GrpcCode is a gRPC status code (grpc-status).
type GrpcCode uint32

const (
	GrpcOK                 GrpcCode = 0
	GrpcCancelled          GrpcCode = 1
	GrpcUnknown            GrpcCode = 2
	GrpcInvalidArgument    GrpcCode = 3
	GrpcDeadlineExceeded   GrpcCode = 4
	GrpcNotFound           GrpcCode = 5
	GrpcAlreadyExists      GrpcCode = 6
	GrpcPermissionDenied   GrpcCode = 7
	GrpcResourceExhausted  GrpcCode = 8
	GrpcFailedPrecondition GrpcCode = 9
	GrpcAborted            GrpcCode = 10
	GrpcOutOfRange         GrpcCode = 11
	GrpcUnimplemented      GrpcCode = 12
	GrpcInternal           GrpcCode = 13
	GrpcUnavailable        GrpcCode = 14
	GrpcDataLoss           GrpcCode = 15
	GrpcUnauthenticated    GrpcCode = 16
)

var grpcCodeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// String is the code's name in the gRPC spec (NOT_FOUND), or CODE_<n> for an unknown one.
func (c GrpcCode) String() string {
	if int(c) < len(grpcCodeNames) {
		return grpcCodeNames[c]
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}

// GrpcError is a call that did not end with grpc-status 0 and one message: the code, and
// grpc-message (percent-decoded) or what went wrong on the way.
type GrpcError struct {
	Code    GrpcCode
	Message string
}

func (e *GrpcError) Error() string { return e.Code.String() + ": " + e.Message }

// GrpcDone receives a unary call's outcome on the stream's thread, with the stream, exactly once
// (unless the stream completes first): the response message, or the error.
type GrpcDone func(s *Stream, response []byte, err *GrpcError)

// StartGrpcCall starts the unary call `call` to Envoy's cluster `cluster` over a streaming
// callout; `done` gets the answer. False when refused (the reason in Envoy's log): as for
// StartCalloutStream, or a path that is not /package.Service/Method, or a message of 4 GiB or
// more.
func (s *Stream) StartGrpcCall(cluster string, call GrpcCall, done GrpcDone) bool {
	if done == nil {
		return false
	}
	if refusal := call.refusal(); refusal != "" {
		Log(LevelWarn, refusal)
		return false
	}
	unary := newGrpcUnary(call, time.Now())
	headers, body := call.request(cluster)
	id := s.StartCalloutStream(cluster, headers, body, true, call.Timeout, func(s *Stream, _ uint64, e CalloutEvent) {
		if response, err, finished := unary.onEvent(e); finished {
			done(s, response, err)
		}
	})
	return id != 0
}

// GrpcFrame is `message` as one gRPC length-prefixed message: a zero byte (not compressed), the
// length as 4 big-endian bytes, the message.
func GrpcFrame(message []byte) []byte {
	framed := make([]byte, 5, 5+len(message))
	binary.BigEndian.PutUint32(framed[1:], uint32(len(message)))
	return append(framed, message...)
}

// grpcUnframe is the one message of a unary answer's body: exactly one uncompressed frame, whole.
func grpcUnframe(body []byte) ([]byte, *GrpcError) {
	internal := func(format string, args ...any) *GrpcError {
		return &GrpcError{Code: GrpcInternal, Message: fmt.Sprintf(format, args...)}
	}
	if len(body) < 5 {
		return nil, internal("the answer's body has %d bytes, not a whole gRPC message", len(body))
	}
	if body[0] != 0 {
		return nil, internal("the answer's message is compressed, and none was asked for")
	}
	size, rest := int(binary.BigEndian.Uint32(body[1:5])), body[5:]
	switch {
	case len(rest) < size:
		return nil, internal("the answer's message is cut short: %d of %d bytes", len(rest), size)
	case len(rest) > size:
		return nil, internal("a unary answer holds more than one message")
	}
	return rest, nil
}

// grpcCodeOfHTTPStatus is the code a gRPC client gives an answer without grpc-status (the gRPC
// spec's HTTP to gRPC mapping); a 504 is Envoy's own answer when the callout's timeout passed.
func grpcCodeOfHTTPStatus(status int) GrpcCode {
	switch status {
	case 400:
		return GrpcInternal
	case 401:
		return GrpcUnauthenticated
	case 403:
		return GrpcPermissionDenied
	case 404:
		return GrpcUnimplemented
	case 504:
		return GrpcDeadlineExceeded
	case 429, 502, 503:
		return GrpcUnavailable
	}
	return GrpcUnknown
}

// grpcDeadlineSlack: how early (by this clock) a timeout reply may arrive and still be the
// deadline's. Envoy times from its event loop's cached clock, which runs behind while it is busy.
const grpcDeadlineSlack = 25 * time.Millisecond

// refusal is why the call cannot be made ("" if it can).
func (c GrpcCall) refusal() string {
	service, method, ok := strings.Cut(strings.TrimPrefix(c.Path, "/"), "/")
	if !strings.HasPrefix(c.Path, "/") || !ok || service == "" || method == "" || strings.Contains(method, "/") {
		return fmt.Sprintf("gRPC call refused: the path %q is not /package.Service/Method", c.Path)
	}
	if uint64(len(c.Message)) > uint64(^uint32(0)) {
		return fmt.Sprintf("gRPC call to %q refused: the message of %d bytes does not fit a gRPC frame (under 4 GiB)", c.Path, len(c.Message))
	}
	return ""
}

func (c GrpcCall) timeoutMs() int64 { return max(c.Timeout.Milliseconds(), 1) }

// request is the call's request headers and framed body to `cluster`.
func (c GrpcCall) request(cluster string) ([][2]string, []byte) {
	authority := c.Authority
	if authority == "" {
		authority = cluster
	}
	timeout := strconv.FormatInt(c.timeoutMs(), 10) + "m"
	if c.timeoutMs() >= 100_000_000 { // gRPC allows at most 8 digits per unit
		timeout = strconv.FormatInt(min(c.timeoutMs()/1000, 99_999_999), 10) + "S"
	}
	headers := [][2]string{{":method", "POST"}, {":path", c.Path}, {":authority", authority},
		{"content-type", "application/grpc"}, {"te", "trailers"}, {"grpc-timeout", timeout}}
	return append(headers, c.Metadata...), GrpcFrame(c.Message)
}

// grpcUnary collects a unary call's answer from the events of its callout.
type grpcUnary struct {
	deadline   time.Time
	httpStatus int
	hasStatus  bool
	code       uint32
	message    string
	body       []byte
	done       bool
}

func newGrpcUnary(call GrpcCall, start time.Time) *grpcUnary {
	return &grpcUnary{deadline: start.Add(time.Duration(call.timeoutMs()) * time.Millisecond)}
}

// onEvent takes the next event; finished once the answer is whole (then once only).
func (u *grpcUnary) onEvent(e CalloutEvent) (response []byte, err *GrpcError, finished bool) {
	if u.done {
		return nil, nil, false
	}
	switch e.Kind {
	case CalloutEventHeaders:
		u.httpStatus = e.Status
		u.takeStatus(e.Headers)
		if !e.EndOfStream {
			return nil, nil, false
		}
	case CalloutEventData:
		u.body = append(u.body, e.Data...)
		if !e.EndOfStream {
			return nil, nil, false
		}
	case CalloutEventTrailers:
		u.takeStatus(e.Headers)
	case CalloutEventComplete:
	default: // Failed, and any event kind a newer host might add
		u.done = true
		code := GrpcUnknown
		if failure, ok := e.Err.(CalloutError); ok {
			switch failure {
			case CalloutNoCluster, CalloutUnavailable, CalloutReset:
				code = GrpcUnavailable
			case CalloutTooLarge:
				code = GrpcResourceExhausted
			}
		}
		return nil, u.pastDeadline(&GrpcError{Code: code, Message: fmt.Sprintf("the callout failed: %v", e.Err)}), true
	}
	u.done = true
	response, err = u.answer()
	if err != nil {
		err = u.pastDeadline(err)
	}
	return response, err, true
}

func (u *grpcUnary) takeStatus(headers [][2]string) {
	for _, h := range headers {
		switch h[0] {
		case "grpc-status":
			u.hasStatus = true
			code, err := strconv.ParseUint(strings.TrimSpace(h[1]), 10, 32)
			if err != nil {
				code = uint64(GrpcUnknown) // as gRPC clients take a status that is not a number
			}
			u.code = uint32(code)
		case "grpc-message":
			u.message = percentDecode(h[1])
		}
	}
}

func (u *grpcUnary) answer() ([]byte, *GrpcError) {
	switch {
	case u.hasStatus && u.httpStatus == 200 && u.code == 0:
		return grpcUnframe(u.body)
	case u.hasStatus && u.httpStatus == 200:
		return nil, &GrpcError{Code: GrpcCode(u.code), Message: u.message}
	case u.httpStatus != 0 && u.httpStatus != 200:
		return nil, &GrpcError{Code: grpcCodeOfHTTPStatus(u.httpStatus),
			Message: fmt.Sprintf("HTTP status %d: %s", u.httpStatus, strings.TrimSpace(string(u.body)))}
	}
	return nil, &GrpcError{Code: GrpcInternal, Message: "the answer carried no grpc-status"}
}

// pastDeadline: err as DEADLINE_EXCEEDED when it is how Envoy ends a call whose deadline passed
// (its timeout reply, UNAVAILABLE for a gRPC request or a plain 504, or a reset) and it has.
func (u *grpcUnary) pastDeadline(err *GrpcError) *GrpcError {
	timeoutLike := err.Code == GrpcUnavailable || err.Code == GrpcDeadlineExceeded
	if timeoutLike && !time.Now().Add(grpcDeadlineSlack).Before(u.deadline) {
		return &GrpcError{Code: GrpcDeadlineExceeded, Message: "the deadline passed (" + err.Message + ")"}
	}
	return err
}

// percentDecode undoes grpc-message's percent-encoding (invalid sequences kept as they are).
func percentDecode(raw string) string {
	var out strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) {
			if b, err := strconv.ParseUint(raw[i+1:i+3], 16, 8); err == nil {
				out.WriteByte(byte(b))
				i += 2
				continue
			}
		}
		out.WriteByte(raw[i])
	}
	return out.String()
}
