package envoyx

import (
	"errors"
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

// factoryFor picks the filter a configuration names (any name when the module has one filter).
func factoryFor(name string) (Factory, error) {
	if f, ok := factories[name]; ok {
		return f, nil
	}
	names := make([]string, 0, len(factories))
	for n, f := range factories {
		if len(factories) == 1 {
			return f, nil
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("the Go module registered no filter (call envoyx.Register in an init function)")
	}
	return nil, fmt.Errorf("the Go module has no filter named %q (it has %s)", name, strings.Join(names, ", "))
}
