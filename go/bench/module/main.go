// The Go bench module as a shared object (`go build -buildmode=c-shared ./module`).
package main

import _ "envoyx.dev/bench"

func main() {}
