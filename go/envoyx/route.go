package envoyx

/*
#include "host.h"

static inline uintptr_t envoyxgo_route_config(envoyx_stream* stream) {
  return (uintptr_t)envoyxgo_host->route_config(stream);
}
*/
import "C"

// RouteFactory parses a per-route configuration (`DynamicModuleConfigPerRoute`: its `name` and
// `filter_config`) into the value Stream.RouteConfig returns on that route's streams. It runs on
// Envoy's main thread when the route configuration loads; an error rejects it. The value is
// shared by every worker thread at once: treat it as read-only.
type RouteFactory func(name string, config []byte) (any, error)

var routeFactories = map[string]RouteFactory{}

// RegisterRoute adds the per-route configuration `name` to the module (a per-route config names
// it as a filter configuration names its filter; any name when the module registers one); call
// it from an init function.
func RegisterRoute(name string, f RouteFactory) { routeFactories[name] = f }

var routeConfigs handles[any]

// RouteConfig is the per-route configuration that applies to the stream (the most specific of
// the route's, the virtual host's and the route configuration's), or nil.
func (s *Stream) RouteConfig() any {
	config, _ := routeConfigs.get(uintptr(C.envoyxgo_route_config(s.raw)))
	return config
}

//export envoyxGoRouteConfigNew
func envoyxGoRouteConfigNew(name *C.char, nameLen C.size_t, config *C.char, configLen C.size_t, err *C.envoyx_error) C.uintptr_t {
	return create(name, nameLen, config, configLen, err, "route factory", func(name string, config []byte) (uintptr, error) {
		factory, e := routeFactoryFor(name)
		if e != nil {
			return 0, e
		}
		value, e := factory(name, config)
		if e != nil {
			return 0, e
		}
		return routeConfigs.add(value), nil
	})
}

//export envoyxGoRouteConfigDestroy
func envoyxGoRouteConfigDestroy(handle C.uintptr_t) { routeConfigs.remove(uintptr(handle)) }

// routeFactoryFor picks the per-route factory as factoryFor picks a filter.
func routeFactoryFor(name string) (RouteFactory, error) {
	return pick(routeFactories, name, "per-route configuration", "RegisterRoute")
}
