package envoyxtest

/*
#include "testhost.h"
*/
import "C"

import (
	"fmt"
	"net"
	"strconv"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/internal/pack"
)

// The stream facts a proxy would know, set by the test before it drives the stream, as the Rust
// test host's setters do: the client's address and the other attributes, metadata from the
// configuration or earlier filters, the upstream hosts attempted, the stream's timing.

// valueParts splits a Go value into what the C side builds an envoyx_value from: a string, a
// number (any Go integer or float) or a bool.
func valueParts(value any) (kind uint32, str string, num float64, b bool, err error) {
	switch v := value.(type) {
	case string:
		return C.ENVOYX_VALUE_STRING, v, 0, false, nil
	case bool:
		return C.ENVOYX_VALUE_BOOL, "", 0, v, nil
	case float64:
		return C.ENVOYX_VALUE_NUMBER, "", v, false, nil
	case float32:
		return C.ENVOYX_VALUE_NUMBER, "", float64(v), false, nil
	case int:
		return C.ENVOYX_VALUE_NUMBER, "", float64(v), false, nil
	case int64:
		return C.ENVOYX_VALUE_NUMBER, "", float64(v), false, nil
	case uint32:
		return C.ENVOYX_VALUE_NUMBER, "", float64(v), false, nil
	case uint64:
		return C.ENVOYX_VALUE_NUMBER, "", float64(v), false, nil
	default:
		return 0, "", 0, false, fmt.Errorf("envoyxtest: %T is no stream fact value (a string, a number or a bool)", value)
	}
}

// SetAttribute gives the stream an attribute (over the test host's connection defaults: client
// 127.0.0.1:50000 to 127.0.0.1:10000 over HTTP/1.1), a string, number or bool as the attribute
// is; an error for another Go type or an unknown attribute.
func (s *Stream) SetAttribute(attribute envoyx.Attribute, value any) error {
	kind, str, num, b, err := valueParts(value)
	if err != nil {
		return err
	}
	if !bool(C.envoyxtest_set_attribute(s.raw, C.uint32_t(attribute), C.uint32_t(kind), cstr(str), C.size_t(len(str)),
		C.double(num), C.bool(b))) {
		return fmt.Errorf("envoyxtest: attribute %d is unknown", attribute)
	}
	return nil
}

// SetClientAddress gives the stream its client's address, "ip:port" (the source.address and
// source.port attributes).
func (s *Stream) SetClientAddress(address string) error {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("envoyxtest: client address %q: %v", address, err)
	}
	number, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("envoyxtest: client address %q: port %q: %v", address, port, err)
	}
	if err := s.SetAttribute(envoyx.AttributeSourceAddress, address); err != nil {
		return err
	}
	return s.SetAttribute(envoyx.AttributeSourcePort, number)
}

// SetMetadata gives the stream metadata: key `key` of namespace `ns` of `source` (route, cluster,
// host or locality metadata as the configuration would carry it, or dynamic metadata as an
// earlier filter set it) holds `value`, a string, number or bool.
func (s *Stream) SetMetadata(source envoyx.MetadataSource, ns, key string, value any) error {
	kind, str, num, b, err := valueParts(value)
	if err != nil {
		return err
	}
	if !bool(C.envoyxtest_set_metadata(s.raw, C.uint32_t(source), cstr(ns), C.size_t(len(ns)), cstr(key),
		C.size_t(len(key)), C.uint32_t(kind), cstr(str), C.size_t(len(str)), C.double(num), C.bool(b))) {
		return fmt.Errorf("envoyxtest: metadata source %d is unknown", source)
	}
	return nil
}

// SetTypedMetadata gives the stream typed metadata: namespace `ns` of `source` holds an Any of
// `typeURL` with the serialized message `value`.
func (s *Stream) SetTypedMetadata(source envoyx.MetadataSource, ns, typeURL string, value []byte) error {
	v := string(value)
	if !bool(C.envoyxtest_set_typed_metadata(s.raw, C.uint32_t(source), cstr(ns), C.size_t(len(ns)), cstr(typeURL),
		C.size_t(len(typeURL)), cstr(v), C.size_t(len(v)))) {
		return fmt.Errorf("envoyxtest: metadata source %d is unknown", source)
	}
	return nil
}

// SetUpstreamHostsAttempted sets the upstream hosts the request was sent to, in attempt order
// ("ip:port" each), as a proxy's retries would; without it the test host reports one attempt
// once the request headers went on.
func (s *Stream) SetUpstreamHostsAttempted(hosts ...string) {
	buf, lens := pack.Strings(hosts...)
	C.envoyxtest_set_upstream_hosts_attempted(s.raw, cbuf(buf), clens(lens), C.size_t(len(hosts)))
}

// SetTiming sets the stream's moment `timing` to `ns`: envoyx.TimingStartUnix as Unix
// nanoseconds, any other as an offset from it.
func (s *Stream) SetTiming(timing envoyx.Timing, ns int64) {
	C.envoyxtest_set_timing(s.raw, C.uint32_t(timing), C.int64_t(ns))
}
