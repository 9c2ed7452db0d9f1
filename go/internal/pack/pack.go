// Package pack lays a list of strings out for C: the bytes end to end in one buffer and their
// lengths in another (uint64, the size of C's size_t on the 64-bit Linux EnvoyX runs on). Neither
// buffer holds a Go pointer, so cgo's rules allow passing both for the duration of a call, and
// the C side makes views of them without copying.
package pack

// Strings packs `strs`.
func Strings(strs ...string) (buf []byte, lens []uint64) {
	total := 0
	for _, s := range strs {
		total += len(s)
	}
	buf, lens = make([]byte, 0, total), make([]uint64, 0, len(strs))
	for _, s := range strs {
		buf = append(buf, s...)
		lens = append(lens, uint64(len(s)))
	}
	return buf, lens
}

// Headers packs key, value, key, value, ...
func Headers(headers [][2]string) (buf []byte, lens []uint64) {
	strs := make([]string, 0, 2*len(headers))
	for _, h := range headers {
		strs = append(strs, h[0], h[1])
	}
	return Strings(strs...)
}
