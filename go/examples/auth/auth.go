// Package auth is the Go port of rust/examples/auth: it asks an auth service, through an Envoy
// cluster, about every request.
//
// The request headers hook sends the request's `authorization` header to the service (an HTTP
// callout: GET /check on the configured cluster, with a timeout) and holds the request. When the
// answer comes:
//   - 200: the identity the service returned (`x-auth-user`) is added as the request header
//     `x-auth-user`, and the request goes on; a route that requires a role the service did not
//     list (`x-auth-roles`) gets 403;
//   - 401 or 403: answered locally with that status (`www-authenticate` passed on);
//   - anything else (a timeout is Envoy's 504), or no answer (no such cluster, reset): 503
//     (`failure=closed`, the default) or the request goes on with `x-auth-skipped: <reason>`
//     (`failure=open`).
//
// Filter config: space-separated key=value, each optional: cluster=auth, timeout_ms=1000,
// failure=closed|open, cluster_alias=<alias>. Per-route config: `off` (no check on that route)
// or `role=<role>`.
//
// cluster_alias: the cluster is looked up on each request in the route's metadata, namespace
// ExtensionBackends, key <alias> — where Envoy Gateway (v1.10+, EnvoyExtensionPolicy
// spec.backends) names the cluster it made for the backend it calls <alias> (the name is
// generated, per route and policy). A route without it gets no answer (`no_backend`).
package auth

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

// ExtensionBackends is the route-metadata namespace where Envoy Gateway names the clusters of an
// EnvoyExtensionPolicy's backends, by alias.
const ExtensionBackends = "gateway.envoyproxy.io/extension-backends"

// Config is the filter configuration.
type Config struct {
	Cluster string
	// ClusterAlias, when set, names the cluster per request through the route's metadata.
	ClusterAlias string
	Timeout      time.Duration
	FailOpen     bool
	filterName   string
}

// ParseConfig reads the filter_config.
func ParseConfig(name string, config []byte) (*Config, error) {
	c := &Config{Cluster: "auth", Timeout: time.Second, filterName: name}
	for _, item := range strings.Fields(string(config)) {
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%s: `%s` is not key=value", name, item)
		}
		switch {
		case key == "cluster" && value != "":
			c.Cluster = value
		case key == "cluster_alias" && value != "":
			c.ClusterAlias = value
		case key == "timeout_ms":
			ms, err := strconv.ParseUint(value, 10, 63)
			if err != nil {
				return nil, fmt.Errorf("%s: timeout_ms `%s` is not a number", name, value)
			}
			if ms == 0 {
				return nil, fmt.Errorf("%s: timeout_ms must be above 0", name)
			}
			c.Timeout = time.Duration(ms) * time.Millisecond
		case key == "failure" && (value == "closed" || value == "open"):
			c.FailOpen = value == "open"
		case key == "failure":
			return nil, fmt.Errorf("%s: failure must be `closed` or `open`, not `%s`", name, value)
		default:
			return nil, fmt.Errorf("%s: unknown or empty setting `%s` (cluster, cluster_alias, timeout_ms, failure)", name, item)
		}
	}
	return c, nil
}

// Route is the per-route configuration: Off, or a required Role.
type Route struct {
	Off  bool
	Role string
}

// ParseRoute reads a per-route filter_config.
func ParseRoute(name string, config []byte) (any, error) {
	text := strings.TrimSpace(string(config))
	if text == "off" {
		return Route{Off: true}, nil
	}
	if role, ok := strings.CutPrefix(text, "role="); ok && role != "" {
		return Route{Role: role}, nil
	}
	return nil, fmt.Errorf("%s: per-route auth config must be `off` or `role=<role>`, not `%s`", name, text)
}

func (c *Config) NewFilter() envoyx.Filter { return &filter{config: c} }

type filter struct {
	envoyx.DefaultFilter
	config       *Config
	pending      bool
	requiredRole string
}

func (f *filter) failed(s *envoyx.Stream, reason string) {
	if f.config.FailOpen {
		s.RequestHeaders().Set("x-auth-skipped", reason)
		s.Continue(envoyx.Request)
		return
	}
	s.SendLocalReply(503, [][2]string{{"x-auth-error", reason}}, []byte("auth service unavailable\n"), "auth_unavailable")
}

func (f *filter) allowed(s *envoyx.Stream, r *envoyx.CalloutResponse) {
	user, _ := r.Header("x-auth-user")
	if f.requiredRole != "" {
		roles, _ := r.Header("x-auth-roles")
		found := false
		for _, role := range strings.Split(roles, ",") {
			found = found || strings.TrimSpace(role) == f.requiredRole
		}
		if !found {
			s.SendLocalReply(403, nil, []byte("role "+f.requiredRole+" required\n"), "auth_role_missing")
			return
		}
	}
	s.RequestHeaders().Set("x-auth-user", user)
	s.Continue(envoyx.Request)
}

func (f *filter) done(s *envoyx.Stream, r *envoyx.CalloutResponse, err error) {
	f.pending = false
	switch {
	case err != nil:
		f.failed(s, err.Error())
	case r.Status == 200:
		f.allowed(s, r)
	case r.Status == 401 || r.Status == 403:
		var headers [][2]string
		if challenge, ok := r.Header("www-authenticate"); ok {
			headers = append(headers, [2]string{"www-authenticate", challenge})
		}
		body := "forbidden\n"
		if r.Status == 401 {
			body = "unauthorized\n"
		}
		s.SendLocalReply(r.Status, headers, []byte(body), "auth_denied")
	default:
		f.failed(s, fmt.Sprintf("status_%d", r.Status))
	}
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	if route, ok := s.RouteConfig().(Route); ok {
		if route.Off {
			return envoyx.HeadersContinue
		}
		f.requiredRole = route.Role
	}
	h := s.RequestHeaders()
	h.Remove("x-auth-user") // only the service's answer may set it
	cluster := f.config.Cluster
	if f.config.ClusterAlias != "" {
		named, ok := s.MetadataString(envoyx.MetadataRoute, ExtensionBackends, f.config.ClusterAlias)
		if !ok {
			return f.failedAtOnce(s, "no_backend")
		}
		cluster = named
	}
	headers := [][2]string{{":method", "GET"}, {":path", "/check"}, {":authority", cluster}}
	if authorization, ok := h.Get("authorization"); ok && authorization != "" {
		headers = append(headers, [2]string{"authorization", authorization})
	}
	f.pending = s.HTTPCallout(cluster, headers, nil, f.config.Timeout, f.done)
	if !f.pending {
		return f.failedAtOnce(s, "refused")
	}
	return envoyx.HeadersStopIteration
}

// failedAtOnce is failed inside the request-headers hook, which answers or lets the request go
// on by its status rather than by resuming it.
func (f *filter) failedAtOnce(s *envoyx.Stream, reason string) envoyx.HeadersStatus {
	if f.config.FailOpen {
		s.RequestHeaders().Set("x-auth-skipped", reason)
		return envoyx.HeadersContinue
	}
	s.SendLocalReply(503, [][2]string{{"x-auth-error", reason}}, []byte("auth service unavailable\n"), "auth_unavailable")
	return envoyx.HeadersStopIteration
}

func (f *filter) OnRequestBody(*envoyx.Stream, bool) envoyx.BodyStatus {
	if f.pending {
		return envoyx.BodyStopAndBuffer
	}
	return envoyx.BodyContinue
}

func init() {
	envoyx.Register("auth", func(name string, config []byte) (envoyx.FilterConfig, error) {
		return ParseConfig(name, config)
	})
	envoyx.RegisterRoute("auth", ParseRoute)
}
