package envoyx

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// plainUpper is the per-byte loop the helpers replace.
func plainUpper(p []byte) {
	for i, c := range p {
		if 'a' <= c && c <= 'z' {
			p[i] = c - ('a' - 'A')
		}
	}
}

// Every byte value, at every position of an 8-byte word and in the tail, maps as the plain loop
// and bytes.ToUpper/ToLower of ASCII do; bytes >= 0x80 (UTF-8) stay as they are.
func TestCaseMappingMatchesThePlainLoopForEveryByte(t *testing.T) {
	all := make([]byte, 256*3+5)
	for i := range all {
		all[i] = byte(i * 7)
	}
	for shift := 0; shift < 9; shift++ {
		got := append([]byte(nil), all[shift:]...)
		want := append([]byte(nil), all[shift:]...)
		UpperASCII(got)
		plainUpper(want)
		if !bytes.Equal(got, want) {
			t.Fatalf("UpperASCII differs from the plain loop at shift %d", shift)
		}
		LowerASCII(got)
		lower := append([]byte(nil), all[shift:]...)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + ('a' - 'A')
			}
		}
		UpperASCII(lower)
		LowerASCII(lower)
		if !bytes.Equal(got, lower) {
			t.Fatalf("LowerASCII differs at shift %d", shift)
		}
	}
	text := []byte("Grüße, Envoy: abc-XYZ @[`{ 0123")
	UpperASCII(text)
	if string(text) != "GRüßE, ENVOY: ABC-XYZ @[`{ 0123" {
		t.Fatalf("%q", text)
	}
}

func TestReplaceByteCountsAndReplaces(t *testing.T) {
	p := []byte("a,b,,c,")
	if n := ReplaceByte(p, ',', ';'); n != 4 || string(p) != "a;b;;c;" {
		t.Fatalf("%d %q", n, p)
	}
	if n := ReplaceByte(p, 'x', 'y'); n != 0 {
		t.Fatal(n)
	}
}

// A separator found wherever it lies: inside a slice, across one border, across several short
// slices; the same answer as strings.Index on the joined body, for random splits.
func TestIndexFindsASeparatorAcrossSliceBorders(t *testing.T) {
	split := func(s string, cuts ...int) [][]byte {
		var out [][]byte
		last := 0
		for _, c := range cuts {
			out = append(out, []byte(s[last:c]))
			last = c
		}
		return append(out, []byte(s[last:]))
	}
	body := "hello <marker> world"
	for _, c := range []struct {
		slices [][]byte
		sep    string
		want   int
	}{
		{split(body, 3), "<marker>", 6},
		{split(body, 8), "<marker>", 6},
		{split(body, 7, 8, 9, 10), "<marker>", 6},
		{split(body, 13), "> w", 13},
		{split(body, 10), "absent", -1},
		{split(body, 5), "", 0},
	} {
		if got := indexAcross(c.slices, []byte(c.sep)); got != c.want {
			t.Errorf("indexAcross(%q, %q) = %d, want %d", c.slices, c.sep, got, c.want)
		}
	}
	r := rand.New(rand.NewSource(1))
	for round := 0; round < 2000; round++ {
		n := 1 + r.Intn(40)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte("ab"[r.Intn(2)])
		}
		s := b.String()
		var cuts []int
		for at := 1; at < n; at++ {
			if r.Intn(3) == 0 {
				cuts = append(cuts, at)
			}
		}
		sep := s[r.Intn(n):]
		sep = sep[:1+r.Intn(min(len(sep), 6))]
		if r.Intn(4) == 0 {
			sep = "bbbbbbb"
		}
		if got, want := indexAcross(split(s, cuts...), []byte(sep)), strings.Index(s, sep); got != want {
			t.Fatalf("indexAcross(%q cut at %v, %q) = %d, want %d", s, cuts, sep, got, want)
		}
	}
}

func BenchmarkUpperASCII1MiB(b *testing.B) {
	p := bytes.Repeat([]byte("abcdefghij"), 1<<20/10)
	b.SetBytes(int64(len(p)))
	for i := 0; i < b.N; i++ {
		UpperASCII(p)
		LowerASCII(p)
	}
}

func BenchmarkPlainLoopUpper1MiB(b *testing.B) {
	p := bytes.Repeat([]byte("abcdefghij"), 1<<20/10)
	b.SetBytes(int64(len(p)))
	for i := 0; i < b.N; i++ {
		plainUpper(p)
		LowerASCII(p)
	}
}
