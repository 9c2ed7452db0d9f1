package pack

import (
	"reflect"
	"testing"
)

func TestStringsAreLaidEndToEnd(t *testing.T) {
	buf, lens := Strings("ab", "", "cde")
	if string(buf) != "abcde" || !reflect.DeepEqual(lens, []uint64{2, 0, 3}) {
		t.Errorf("got %q %v", buf, lens)
	}
	buf, lens = Headers([][2]string{{"k", "v1"}, {"kk", ""}})
	if string(buf) != "kv1kk" || !reflect.DeepEqual(lens, []uint64{1, 2, 2, 0}) {
		t.Errorf("got %q %v", buf, lens)
	}
}
