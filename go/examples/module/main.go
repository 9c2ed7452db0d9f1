// The Go examples as one module (`go build -buildmode=c-shared ./module`): an Envoy process can
// hold one Go runtime, so every Go filter it runs is in one shared object, picked by the
// configuration's `name`: helloworld, headers, body-rewrite, body-replace, send-response, delay,
// json-validate, auth, grpc-check, stream-response.
package main

import (
	_ "envoyx.dev/examples/auth"
	_ "envoyx.dev/examples/bodyreplace"
	_ "envoyx.dev/examples/bodyrewrite"
	_ "envoyx.dev/examples/delay"
	_ "envoyx.dev/examples/grpccheck"
	_ "envoyx.dev/examples/headers"
	_ "envoyx.dev/examples/helloworld"
	_ "envoyx.dev/examples/jsonvalidate"
	_ "envoyx.dev/examples/sendresponse"
	_ "envoyx.dev/examples/streamresponse"
)

func main() {}
