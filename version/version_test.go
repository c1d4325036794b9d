package version

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	in := Info{Module: "v1.2.3", Revision: "0123456789abcdef0123", Modified: true, Go: "go1.26.8"}
	if got, want := in.String(), "qbench v1.2.3 rev 0123456789ab+dirty go1.26.8"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Info{Module: "(devel)"}).String(); got != "qbench (devel)" {
		t.Errorf("without revision: %q", got)
	}
	if g := Get(); g.Module == "" || !strings.HasPrefix(g.String(), "qbench ") {
		t.Errorf("Get() = %+v", g)
	}
}
