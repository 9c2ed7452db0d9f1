// The Go examples as one module (`go build -buildmode=c-shared ./module`): an Envoy process can
// hold one Go runtime, so every Go filter it runs is in one shared object, picked by the
// configuration's `name` (`helloworld`, `headers`).
package main

import (
	_ "envoyx.dev/examples/headers"
	_ "envoyx.dev/examples/helloworld"
)

func main() {}
