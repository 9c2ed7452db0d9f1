package envoyx

// Yields is how many times a thread calling in let the Go scheduler run (processors.go), for
// the package's external tests.
func Yields() uint64 { return yields.Load() }
