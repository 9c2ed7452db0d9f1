package envoyx

import (
	"bytes"
	"encoding/binary"
)

// In-place byte work across a body's slices, fast: what a transform filter does most (case
// mapping, byte replacement, finding a marker that may straddle two slices). The plain Go loop
// (`for i, c := range slice { if 'a' <= c && c <= 'z' { ... } }`) branches per byte and is not
// vectorised by the Go compiler; these work eight bytes at a time. Each also has a form for one
// []byte of the module's own.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// asciiRangeMask is the high bit of each byte of `w` that is an ASCII byte in [lo, hi]: computed
// on the seven low bits (so no byte carries into the next) with the bytes that have the high bit
// set cleared.
func asciiRangeMask(w uint64, lo, hi byte) uint64 {
	h := w &^ highs
	atLeastLo := h + uint64(0x80-lo)*ones // high bit set where h >= lo
	aboveHi := h + uint64(0x7f-hi)*ones   // high bit set where h > hi
	return atLeastLo &^ aboveHi &^ w & highs
}

// flipCase flips bit 5 (the ASCII case bit) of the bytes of `p` in [lo, hi]: 32 bytes per
// round (four words, no branch), then word by word, then the last bytes one by one.
func flipCase(p []byte, lo, hi byte) {
	i := 0
	for ; i+32 <= len(p); i += 32 {
		q := (*[32]byte)(p[i : i+32]) // one bounds check for the four words
		w0 := binary.LittleEndian.Uint64(q[0:])
		w1 := binary.LittleEndian.Uint64(q[8:])
		w2 := binary.LittleEndian.Uint64(q[16:])
		w3 := binary.LittleEndian.Uint64(q[24:])
		binary.LittleEndian.PutUint64(q[0:], w0^asciiRangeMask(w0, lo, hi)>>2)
		binary.LittleEndian.PutUint64(q[8:], w1^asciiRangeMask(w1, lo, hi)>>2)
		binary.LittleEndian.PutUint64(q[16:], w2^asciiRangeMask(w2, lo, hi)>>2)
		binary.LittleEndian.PutUint64(q[24:], w3^asciiRangeMask(w3, lo, hi)>>2)
	}
	for ; i+8 <= len(p); i += 8 {
		w := binary.LittleEndian.Uint64(p[i:])
		if mask := asciiRangeMask(w, lo, hi); mask != 0 {
			binary.LittleEndian.PutUint64(p[i:], w^(mask>>2))
		}
	}
	for ; i < len(p); i++ {
		if c := p[i]; lo <= c && c <= hi {
			p[i] = c ^ 0x20
		}
	}
}

// UpperASCII upper-cases the ASCII letters of `p` in place; every other byte (UTF-8 sequences
// included) stays as it is.
func UpperASCII(p []byte) { flipCase(p, 'a', 'z') }

// LowerASCII lower-cases the ASCII letters of `p` in place, as UpperASCII.
func LowerASCII(p []byte) { flipCase(p, 'A', 'Z') }

// ReplaceByte replaces every byte `old` of `p` with `new`, in place; how many it replaced.
func ReplaceByte(p []byte, old, new byte) int {
	n := 0
	for at := bytes.IndexByte(p, old); at >= 0; {
		p[at] = new
		n++
		next := bytes.IndexByte(p[at+1:], old)
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return n
}

// UpperASCII upper-cases the ASCII letters of the body in place, across its slices (its length
// does not change, so content-length stays right).
func (b Body) UpperASCII() {
	for _, s := range b.Slices() {
		UpperASCII(s)
	}
}

// LowerASCII lower-cases the ASCII letters of the body in place, as UpperASCII.
func (b Body) LowerASCII() {
	for _, s := range b.Slices() {
		LowerASCII(s)
	}
}

// ReplaceByte replaces every byte `old` of the body with `new`, in place across its slices; how
// many it replaced.
func (b Body) ReplaceByte(old, new byte) int {
	n := 0
	for _, s := range b.Slices() {
		n += ReplaceByte(s, old, new)
	}
	return n
}

// Index is the offset in the body of the first `sep`, which may straddle slices, or -1; an
// empty `sep` is at 0. Replace(Index(...), len(sep), ...) then changes it.
func (b Body) Index(sep []byte) int {
	return indexAcross(b.Slices(), sep)
}

// indexAcross finds `sep` in the concatenation of `slices` without making it: inside each slice
// with bytes.Index, and across each border in a window of the last len(sep)-1 bytes before it
// and the first len(sep)-1 after it (which may span more than two slices).
func indexAcross(slices [][]byte, sep []byte) int {
	if len(sep) == 0 {
		return 0
	}
	offset := 0
	for i, s := range slices {
		if at := bytes.Index(s, sep); at >= 0 {
			return offset + at
		}
		if len(sep) > 1 && i+1 < len(slices) {
			tail := s[max(0, len(s)-(len(sep)-1)):]
			window := append([]byte(nil), tail...)
			for _, next := range slices[i+1:] {
				window = append(window, next[:min(len(next), len(sep)-1-(len(window)-len(tail)))]...)
				if len(window)-len(tail) >= len(sep)-1 {
					break
				}
			}
			if at := bytes.Index(window, sep); at >= 0 {
				return offset + len(s) - len(tail) + at
			}
		}
		offset += len(s)
	}
	return -1
}
