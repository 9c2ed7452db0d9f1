package bodyrewrite

import (
	"strings"
	"testing"
)

func TestParseDirections(t *testing.T) {
	cases := map[string]Directions{"": {true, true}, " both\n": {true, true}, "request": {Request: true}, "response": {Response: true}}
	for text, want := range cases {
		got, err := ParseDirections([]byte(text))
		if err != nil || got != want {
			t.Errorf("ParseDirections(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	_, err := ParseDirections([]byte("sideways"))
	if err == nil || !strings.Contains(err.Error(), `got "sideways"`) {
		t.Errorf("a bad config is refused naming what it got: %v", err)
	}
}

func TestUpperCaseInPlaceAcrossSlices(t *testing.T) {
	slices := [][]byte{[]byte("héllo, "), []byte("world 42")}
	UpperCaseInPlace(slices)
	if got := string(slices[0]) + string(slices[1]); got != "HéLLO, WORLD 42" {
		t.Errorf("got %q", got)
	}
}
