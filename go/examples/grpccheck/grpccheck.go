// Package grpccheck is the Go port of rust/examples/grpc-check: before letting each request
// through, it asks a gRPC health service (grpc.health.v1.Health/Check, a unary gRPC call over a
// streaming callout, envoyx.StartGrpcCall) whether the backend is serving.
//
// The service checked is the request header `x-check-service`, or the configured `service`.
// When the answer comes:
//   - SERVING: the request goes on, with `x-backend-health: serving` added;
//   - any other status: 503 with `x-backend-health: not_serving`;
//   - a gRPC error (NOT_FOUND for a service the server does not know, DEADLINE_EXCEEDED once
//     timeout_ms has passed, UNAVAILABLE for a cluster Envoy does not have): 503 with
//     `x-grpc-error: <CODE>`.
//
// Filter config: space-separated key=value, each optional: cluster=grpc, service= (empty: the
// server's overall health), timeout_ms=500.
package grpccheck

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

// Check is the method called.
const Check = "/grpc.health.v1.Health/Check"

// Serving is HealthCheckResponse.ServingStatus.SERVING.
const Serving = 1

// Config is the filter configuration.
type Config struct {
	Cluster string
	Service string
	Timeout time.Duration
}

// ParseConfig reads the filter_config.
func ParseConfig(name string, config []byte) (*Config, error) {
	c := &Config{Cluster: "grpc", Timeout: 500 * time.Millisecond}
	for _, item := range strings.Fields(string(config)) {
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%s: `%s` is not key=value", name, item)
		}
		switch {
		case key == "cluster" && value != "":
			c.Cluster = value
		case key == "service":
			if err := checkServiceName(name, value); err != nil {
				return nil, err
			}
			c.Service = value
		case key == "timeout_ms":
			ms, err := strconv.ParseUint(value, 10, 63)
			if err != nil {
				return nil, fmt.Errorf("%s: timeout_ms `%s` is not a number", name, value)
			}
			if ms == 0 {
				return nil, fmt.Errorf("%s: timeout_ms must be above 0", name)
			}
			c.Timeout = time.Duration(ms) * time.Millisecond
		default:
			return nil, fmt.Errorf("%s: unknown or empty setting `%s` (cluster, service, timeout_ms)", name, item)
		}
	}
	return c, nil
}

// checkServiceName: a name the request message can carry (a short protobuf string).
func checkServiceName(name, service string) error {
	if len(service) > 127 {
		return fmt.Errorf("%s: service names are at most 127 bytes, `%s` has %d", name, service, len(service))
	}
	return nil
}

// HealthCheckRequest is `HealthCheckRequest { service }`, encoded: field 1, length-delimited.
func HealthCheckRequest(service string) []byte {
	if service == "" {
		return nil
	}
	return append([]byte{0x0a, byte(len(service))}, service...)
}

// ServingStatus is HealthCheckResponse.status of an encoded response (0, UNKNOWN, when absent);
// false for bytes that are not such a response.
func ServingStatus(response []byte) (uint64, bool) {
	switch {
	case len(response) == 0:
		return 0, true
	case len(response) == 2 && response[0] == 0x08 && response[1] < 0x80:
		return uint64(response[1]), true
	}
	return 0, false
}

func (c *Config) NewFilter() envoyx.Filter { return &filter{config: c} }

type filter struct {
	envoyx.DefaultFilter
	config  *Config
	pending bool
}

func unavailable(s *envoyx.Stream, headers [][2]string, body string) {
	s.SendLocalReply(503, headers, []byte(body), "grpc_check_failed")
}

func (f *filter) done(s *envoyx.Stream, response []byte, err *envoyx.GrpcError) {
	f.pending = false
	if err != nil {
		unavailable(s, [][2]string{{"x-grpc-error", err.Code.String()}}, "health check failed: "+err.Error()+"\n")
		return
	}
	status, ok := ServingStatus(response)
	if ok && status == Serving {
		s.RequestHeaders().Set("x-backend-health", "serving")
		s.Continue(envoyx.Request)
		return
	}
	shown := "unreadable"
	if ok {
		shown = strconv.FormatUint(status, 10)
	}
	unavailable(s, [][2]string{{"x-backend-health", "not_serving"}}, "backend not serving (health status "+shown+")\n")
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	service := f.config.Service
	if asked, ok := s.RequestHeaders().Get("x-check-service"); ok {
		if err := checkServiceName("x-check-service", asked); err != nil {
			s.SendLocalReply(400, nil, []byte(err.Error()+"\n"), "grpc_check_bad_request")
			return envoyx.HeadersStopIteration
		}
		service = asked
	}
	call := envoyx.GrpcCall{Path: Check, Message: HealthCheckRequest(service), Timeout: f.config.Timeout}
	f.pending = s.StartGrpcCall(f.config.Cluster, call, f.done)
	if !f.pending {
		// Refused at once (logged): no answer will come.
		unavailable(s, [][2]string{{"x-grpc-error", "refused"}}, "health check refused\n")
	}
	return envoyx.HeadersStopIteration
}

func (f *filter) OnRequestBody(*envoyx.Stream, bool) envoyx.BodyStatus {
	if f.pending {
		return envoyx.BodyStopAndBuffer
	}
	return envoyx.BodyContinue
}

func init() {
	envoyx.Register("grpc-check", func(name string, config []byte) (envoyx.FilterConfig, error) {
		return ParseConfig(name, config)
	})
}
