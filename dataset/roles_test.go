package dataset

import (
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

func rolesSamples(root string, recs ...string) []Sample {
	var out []Sample
	for _, r := range recs {
		for _, f := range []string{"0.png", "1.png"} {
			out = append(out, Sample{Path: root + "/" + r + "/CROSSWALK/" + f, Recording: r})
		}
	}
	return out
}

// TestRolesRoundTrip: the roles survive the model metadata, images are
// recognised by their last three path parts wherever the data lives, and
// each purpose gets its role.
func TestRolesRoundTrip(t *testing.T) {
	tr, val := rolesSamples("/data/gen", "rec1", "rec2"), rolesSamples("/data/gen", "rec3")
	r := NewRoles(`split "train"`, "20% of tracks", []string{"verification"}, tr, val)
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g := &graph.Graph{Metadata: map[string][]byte{MetadataRoles: b}}
	got, ok, err := RolesFromGraph(g)
	if err != nil || !ok || got.Images != 6 || len(got.Seen) != 6 || got.HeldOut[0] != "verification" {
		t.Fatalf("round trip: %+v ok=%v err=%v", got, ok, err)
	}
	test := rolesSamples("/elsewhere/gen", "rec4")
	moved := rolesSamples("/elsewhere/gen", "rec1")
	if msg, warn := got.Role(test, "evaluate"); warn || !strings.HasPrefix(msg, "test data: none of its 2 images") {
		t.Errorf("held-out images: %q %v", msg, warn)
	}
	if msg, warn := got.Role(moved, "evaluate"); !warn || !strings.HasPrefix(msg, "not test data: all 2 images") {
		t.Errorf("training images in a moved folder: %q %v", msg, warn)
	}
	if msg, warn := got.Role(append(test, moved...), "evaluate"); !warn || !strings.Contains(msg, "2 of its 4 images") {
		t.Errorf("mixed: %q %v", msg, warn)
	}
	if msg, warn := got.Role(tr, "calibrate"); warn || !strings.Contains(msg, "all 4 trained or validated") {
		t.Errorf("calibration on training images: %q %v", msg, warn)
	}
	if msg, warn := got.Role(test, "calibrate"); !warn || !strings.Contains(msg, "2 of the 2 calibration images did not train") {
		t.Errorf("calibration on held-out images: %q %v", msg, warn)
	}
	// No record, or a bad one.
	if _, ok, err := RolesFromGraph(&graph.Graph{}); ok || err != nil {
		t.Errorf("no record: ok=%v err=%v", ok, err)
	}
	for _, bad := range []string{"{", `{"seen":"AAA="}`, `{"images":"x"}`} {
		if _, _, err := RolesFromGraph(&graph.Graph{Metadata: map[string][]byte{MetadataRoles: []byte(bad)}}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func FuzzRolesFromGraph(f *testing.F) {
	b, _ := NewRoles("a", "b", []string{"c"}, rolesSamples("/d", "r")).Marshal()
	f.Add(b)
	f.Add([]byte(`{"seen":"AAAAAQ=="}`))
	f.Add([]byte(`{"seen":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, err := RolesFromGraph(&graph.Graph{Metadata: map[string][]byte{MetadataRoles: data}})
		if err != nil {
			return
		}
		r.Role(rolesSamples("/x", "r"), "evaluate")
		if _, err := r.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}
