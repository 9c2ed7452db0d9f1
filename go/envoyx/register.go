package envoyx

import (
	"fmt"
	"sort"
	"strings"
)

// Factory parses a filter configuration (`name` and the `filter_config` bytes); an error
// refuses it, and the host reports the error's text.
type Factory func(name string, config []byte) (FilterConfig, error)

var factories = map[string]Factory{}

// Register adds the filter `name` to the module; call it from an init function.
func Register(name string, f Factory) { factories[name] = f }

// factoryFor picks the filter a configuration names.
func factoryFor(name string) (Factory, error) { return pick(factories, name, "filter", "Register") }

// pick finds `name` in `registry`, or the only entry whatever the name; the error names what the
// registry holds. `what` is what it holds, `register` the function that fills it.
func pick[F any](registry map[string]F, name, what, register string) (F, error) {
	if f, ok := registry[name]; ok {
		return f, nil
	}
	names := make([]string, 0, len(registry))
	for n, f := range registry {
		if len(registry) == 1 {
			return f, nil
		}
		names = append(names, n)
	}
	var none F
	if len(names) == 0 {
		return none, fmt.Errorf("the Go module registered no %s (call envoyx.%s in an init function)", what, register)
	}
	sort.Strings(names)
	return none, fmt.Errorf("the Go module has no %s named %q (it has %s)", what, name, strings.Join(names, ", "))
}
