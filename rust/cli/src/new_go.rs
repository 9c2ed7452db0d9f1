//! `envoyx new --lang go NAME`: the files of a Go module that builds, passes its tests and
//! serves as generated. It requires the Go SDK (`github.com/envoyx/envoyx/go`, the standard
//! library and cgo only) at this `envoyx`'s version, from the module proxy; from an EnvoyX
//! checkout, go.mod replaces it with the checkout's `go/` folder.

use crate::sdk::Sdk;

/// The Go SDK's module path.
pub const SDK_MODULE: &str = "github.com/envoyx/envoyx/go";

/// The files of the Go module `name` depending on the SDK from `sdk`.
pub fn files(name: &str, sdk: &Sdk, library: &str, module: &std::path::Path) -> Vec<(&'static str, String)> {
    let build = format!("envoyx go build -buildmode=c-shared -o {library} .");
    let made = crate::envoy_yaml::EnvoyYamlFor {
        build: &build,
        module_is: "this Go module from `file_path`, where\n# `envoyx go build` put it (change it if you build elsewhere)",
    };
    vec![
        ("go.mod", go_mod(name, sdk)),
        ("filter.go", filter_go(name)),
        ("main.go", MAIN_GO.to_string()),
        ("filter_test.go", filter_test_go(name)),
        ("envoy.yaml", crate::envoy_yaml::envoy_yaml(name, module, &made)),
        ("README.md", readme(name, library)),
        (".gitignore", "/lib*.so\n/lib*.h\n".to_string()),
    ]
}

/// What to do next, printed after creating the module in `dir`.
pub fn next_steps(library: &str) -> Vec<String> {
    vec![
        "envoyx go test ./...            # the filter through the real EnvoyX core".to_string(),
        format!("envoyx go build -buildmode=c-shared -o {library} ."),
        format!("envoyx check {library}"),
        format!("envoyx run --module {library}=hi   # serves 127.0.0.1:10000 through Envoy"),
    ]
}

fn go_mod(name: &str, sdk: &Sdk) -> String {
    let version = envoyx_build::VERSION;
    let head = format!("module {name}\n\ngo 1.27\n\nrequire {SDK_MODULE} v{version}\n");
    match sdk {
        Sdk::Registry => head,
        Sdk::Checkout(envoyx) => format!(
            "{head}\n// The EnvoyX checkout `envoyx new` used. Remove this line to use the published SDK, or\n\
             // change it if the checkout moves.\nreplace {SDK_MODULE} => {}\n",
            envoyx.join("go").display()
        ),
    }
}

const MAIN_GO: &str = "\
// A Go module is built with `-buildmode=c-shared`, which needs a main package with a main
// function; Envoy never calls it. The filters are registered by init functions (filter.go).
package main

func main() {}
";

fn filter_go(name: &str) -> String {
    // Laid out as gofmt writes it, so `gofmt -l` stays quiet.
    format!(
        r#"package main

import (
	"fmt"
	"strings"

	"github.com/envoyx/envoyx/go/envoyx"
)

// Header is the response header this filter adds.
const Header = "x-hello"

// DefaultValue is the header's value when the filter_config is empty.
const DefaultValue = "hello from {name}"

// config is built once per filter configuration and shared by every stream on every worker
// thread: it must be safe for concurrent use (it is never changed after creation).
type config struct{{ value string }}

func (c config) NewFilter() envoyx.Filter {{ return &filter{{value: c.value}} }}

// filter is one per HTTP stream; DefaultFilter lets every other event through.
type filter struct {{
	envoyx.DefaultFilter
	value string
}}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, endOfStream bool) envoyx.HeadersStatus {{
	s.ResponseHeaders().Set(Header, f.value)
	return envoyx.HeadersContinue
}}

// newConfig parses the filter_config: the header's value.
func newConfig(name string, filterConfig []byte) (envoyx.FilterConfig, error) {{
	value := string(filterConfig)
	// Envoy would refuse such a header value on every response: refuse the config instead.
	if strings.ContainsFunc(value, func(r rune) bool {{ return r < 0x20 && r != '\t' || r == 0x7f }}) {{
		return nil, fmt.Errorf("filter_config %q cannot be a header value (control characters)", value)
	}}
	if value == "" {{
		value = DefaultValue
	}}
	return config{{value: value}}, nil
}}

func init() {{ envoyx.Register("{name}", newConfig) }}
"#
    )
}

fn filter_test_go(name: &str) -> String {
    format!(
        r#"package main

import (
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyxtest"
)

// The filter runs through the real EnvoyX core (the same stream rules and validation as in
// Envoy), with no shared object built. Run with `envoyx go test ./...`.

func TestAddsTheConfiguredHeader(t *testing.T) {{
	s := envoyxtest.New(t, "{name}", "hi").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	if got, _ := s.ClientResponseHeaders().Get(Header); got != "hi" {{
		t.Errorf("%s = %q, want %q", Header, got, "hi")
	}}
}}

func TestAnEmptyConfigUsesTheDefault(t *testing.T) {{
	s := envoyxtest.New(t, "{name}", "").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	if got, _ := s.ClientResponseHeaders().Get(Header); got != DefaultValue {{
		t.Errorf("%s = %q, want %q", Header, got, DefaultValue)
	}}
}}

func TestAControlCharacterIsRefused(t *testing.T) {{
	_, err := envoyxtest.Load("{name}", "a\nb")
	if err == nil || !strings.Contains(err.Error(), "cannot be a header value") {{
		t.Errorf("got %v", err)
	}}
}}
"#
    )
}

fn readme(name: &str, library: &str) -> String {
    format!(
        r#"# {name}

An EnvoyX module written in Go: an Envoy HTTP filter as a native shared object. It adds the
response header `x-hello` to every response, with its `filter_config` as the value.

`envoyx go` is the Go toolchain EnvoyX installs (no Go of your own needed).

## Test

```sh
envoyx go test ./...
```

The tests in `filter_test.go` drive the filter through the real EnvoyX core with
`github.com/envoyx/envoyx/go/envoyxtest` (same stream rules and validation as in Envoy, no shared object built).

## Build and run in Envoy

```sh
envoyx go build -buildmode=c-shared -o {library} .
envoyx check {library} --filter-config hi # symbols, ABI version, program init, a configuration
envoyx run --module {library}=hi
curl -i http://127.0.0.1:10000/           # ... x-hello: hi
```

`envoyx run --module` answers with its built-in echo upstream (each request header comes back as
`x-upstream-saw-<name>`); `--upstream http://HOST:PORT` sends requests to yours instead.

`envoy.yaml` is a plain Envoy config for the same module (a filter configuration of your own, a
cluster to call out to, a route): `envoyx run --config envoy.yaml`, with an upstream of yours on
127.0.0.1:8080. With `envoyx run --module`, a callout's cluster is `--cluster NAME=http://HOST:PORT`.

Plain `go test` (an editor's or IDE's test runner) needs the EnvoyX test host's path and the
toolchain's settings: `eval "$(envoyx go test-env)"` sets them in a shell, or copy what it prints
into the editor's test environment.

## Go modules in Envoy

An Envoy process can hold one Go runtime: put every Go filter it runs into this one module
(`envoyx.Register` each by name; the filter configuration's `name` picks one). A Go module is
never unloaded, and a new build is rolled out by restarting Envoy (hot reload refuses a second Go
runtime with a clear error).
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_module_requires_this_version_without_replace() {
        let published = go_mod("my-filter", &Sdk::Registry);
        assert!(
            published.contains(&format!("require {SDK_MODULE} v{}\n", envoyx_build::VERSION)),
            "{published}"
        );
        assert!(!published.contains("replace"), "{published}");
        let local = go_mod("my-filter", &Sdk::Checkout("/src/envoyx".into()));
        assert!(local.contains(&format!("replace {SDK_MODULE} => /src/envoyx/go\n")), "{local}");
    }
}
