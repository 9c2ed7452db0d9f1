package jsonvalidate

import (
	"strings"
	"testing"
)

func TestCheckBody(t *testing.T) {
	cases := map[string]string{
		`{"user": "ada"}`: "",
		`{}`:              `missing field "user"`,
		`[1, 2]`:          "body is not a JSON object",
		`{"user": `:       "body is not JSON: ",
	}
	for body, want := range cases {
		err := CheckBody(strings.NewReader(body), "user")
		if (want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("CheckBody(%q) = %v; want %q", body, err, want)
		}
	}
}

func TestErrorBodyIsTheRustExamplesBody(t *testing.T) {
	if got := string(ErrorBody(`missing field "user"`)); got != "{\"error\":\"missing field \\\"user\\\"\"}\n" {
		t.Errorf("got %q", got)
	}
}
