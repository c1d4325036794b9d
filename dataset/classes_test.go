package dataset

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

// folderSet writes n images into each named class folder and opens root.
func folderSet(t *testing.T, labelMap string, folders ...string) *Dataset {
	t.Helper()
	root := t.TempDir()
	for i, f := range folders {
		for j := range 2 {
			writePNG(t, filepath.Join(root, f, string(rune('a'+j))+".png"), 2, 2, uint8(10*i+j))
		}
	}
	if labelMap != "" {
		writeFile(t, filepath.Join(root, "labels.yaml"), labelMap)
	}
	d, err := Open(root, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// labelsByFolder maps each folder to the output index its images got.
func labelsByFolder(d *Dataset) map[string]int {
	m := map[string]int{}
	for _, s := range d.Samples {
		m[s.Folder] = s.Label
	}
	return m
}

func TestMatchOutputsByName(t *testing.T) {
	outputs := []string{"stop", "yield, give way", "Speed Limit", "crosswalk"}
	// A subset of the classes, a folder sorting first that names no class,
	// a loosely spelled name and a name without its synonyms.
	d := folderSet(t, "", "yield", "stop", "aaa_other", "speed_limit")
	r, m, err := d.MatchOutputs(outputs, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"stop": 0, "yield": 1, "speed_limit": 2}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	if !reflect.DeepEqual(r.Classes, outputs) || m.By != MatchByName || m.Dropped != 2 {
		t.Fatalf("classes %v, match %+v", r.Classes, m)
	}
	w := strings.Join(m.Warnings(), "\n")
	if !strings.Contains(w, "aaa_other (2 images)") || !strings.Contains(w, "no images: crosswalk") {
		t.Fatalf("warnings:\n%s", w)
	}
	// The same folders with a label map in another order map the same.
	d = folderSet(t, "classes: [yield, speed_limit, stop]\n", "yield", "stop", "speed_limit")
	r, _, err = d.MatchOutputs(outputs, 4)
	if err != nil {
		t.Fatal(err)
	}
	delete(want, "aaa_other")
	if got := labelsByFolder(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("with a label map: labels %v, want %v", got, want)
	}
	// Nothing in common is an error naming both sides.
	d = folderSet(t, "", "cat", "dog")
	if _, _, err := d.MatchOutputs(outputs, 4); err == nil || !strings.Contains(err.Error(), "cat") || !strings.Contains(err.Error(), "crosswalk") {
		t.Fatalf("no common class: err %v", err)
	}
}

func TestMatchOutputsWithoutModelNames(t *testing.T) {
	// Numbered folders are output indices, gaps included.
	d := folderSet(t, "", "0", "2", "10")
	r, m, err := d.MatchOutputs(nil, 12)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, map[string]int{"0": 0, "2": 2, "10": 10}) || m.By != MatchByID || len(r.Classes) != 12 {
		t.Fatalf("labels %v classes %v match %+v", got, r.Classes, m)
	}
	// Named folders without a label map: sorted order, said once.
	d = folderSet(t, "", "b", "a")
	r, m, err = d.MatchOutputs(nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, map[string]int{"a": 0, "b": 1}) || m.By != MatchByFolderOrder ||
		!strings.Contains(strings.Join(m.Warnings(), "\n"), "sorted order") || r.Classes[2] != "output 2" {
		t.Fatalf("labels %v classes %v warnings %v", got, r.Classes, m.Warnings())
	}
	// A label map names the outputs in its order.
	d = folderSet(t, "classes: [b, a]\n", "b", "a")
	r, m, err = d.MatchOutputs(nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, map[string]int{"a": 1, "b": 0}) || m.By != MatchByLabelMap || len(m.Warnings()) != 0 {
		t.Fatalf("labels %v match %+v", got, m)
	}
	// More classes than outputs and no names: an error.
	d = folderSet(t, "", "a", "b", "c")
	if _, _, err := d.MatchOutputs(nil, 2); err == nil || !strings.Contains(err.Error(), "--labels") {
		t.Fatalf("3 classes, 2 outputs: err %v", err)
	}
	if _, _, err := d.MatchOutputs([]string{"a"}, 2); err == nil {
		t.Fatal("1 name for 2 outputs: want an error")
	}
}

func TestMatchModelReadsStoredNames(t *testing.T) {
	g := &graph.Graph{Metadata: map[string][]byte{graph.MetadataClasses: []byte(`["b","a"]`)}}
	out := g.AddTensor(&graph.Tensor{Name: "probs", Shape: []int{1, 2}, DType: graph.Float32})
	g.Outputs = []int{out}
	d := folderSet(t, "", "a", "b")
	r, m, err := d.MatchModel(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, map[string]int{"a": 1, "b": 0}) || !strings.Contains(m.Source, graph.MetadataClasses) {
		t.Fatalf("labels %v match %+v", got, m)
	}
	g.Metadata[graph.MetadataClasses] = []byte(`{"no":1}`)
	if _, _, err := d.MatchModel(g); err == nil || !strings.Contains(err.Error(), graph.MetadataClasses) {
		t.Fatalf("corrupt names: err %v", err)
	}
}

func TestModelClassesFromTFLiteMetadata(t *testing.T) {
	g := &graph.Graph{Meta: &graph.ModelMeta{Outputs: []graph.TensorMeta{{Labels: []graph.LabelFile{
		{FileName: "labels.txt", Type: graph.LabelsAxis, Names: []string{"background", "cat", "dog"}}}}}}}
	out := g.AddTensor(&graph.Tensor{Name: "probs", Shape: []int{1, 3}, DType: graph.UInt8})
	g.Outputs = []int{out}
	names, src, err := ModelClasses(g)
	if err != nil || len(names) != 3 || names[1] != "cat" || !strings.Contains(src, "labels.txt") {
		t.Fatalf("names %v source %q err %v", names, src, err)
	}
	// A test set of two of the classes matches by name: cat -> 1, dog -> 2.
	d := folderSet(t, "", "dog", "cat")
	r, _, err := d.MatchModel(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsByFolder(r); !reflect.DeepEqual(got, map[string]int{"cat": 1, "dog": 2}) {
		t.Fatalf("labels %v", got)
	}
	// A label file of another length names something else: ignored.
	g.Tensors[out].Shape = []int{1, 4}
	if names, _, _ := ModelClasses(g); names != nil {
		t.Fatalf("4 outputs, 3 labels: names %v, want none", names)
	}
}

// A suggested label map, read back, matches each folder's images to the
// output the mapping says, whether the model names its outputs or not,
// for folders named by number with names from the map.
func TestSuggestLabelMapRoundTrip(t *testing.T) {
	for _, named := range []bool{false, true} {
		d := folderSet(t, "classes: [x, y, z]\nsplits: {val: []}\n", "00", "01", "02")
		base, err := ReadLabelMap(d.LabelMap)
		if err != nil {
			t.Fatal(err)
		}
		mapping := []int{2, 0, 1}
		lm, err := SuggestLabelMap(d.Classes, mapping, base)
		if err != nil {
			t.Fatal(err)
		}
		y, err := lm.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "suggested-labels.yaml")
		writeFile(t, p, string(y))
		d2, err := Open(d.Root, OpenOptions{LabelMap: p})
		if err != nil {
			t.Fatal(err)
		}
		g := &graph.Graph{}
		g.Outputs = []int{g.AddTensor(&graph.Tensor{Name: "p", Shape: []int{1, 3}, DType: graph.Float32})}
		if named { // names in the model lose to the map's outputs:
			g.Metadata = map[string][]byte{graph.MetadataClasses: []byte(`["x","y","z"]`)}
		}
		r, _, err := d2.MatchModel(g)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"00": 2, "01": 0, "02": 1}
		if got := labelsByFolder(r); !reflect.DeepEqual(got, want) || lm.Splits == nil {
			t.Fatalf("named %v: map\n%s\nlabels %v, want %v", named, y, got, want)
		}
		if !reflect.DeepEqual(r.Classes, []string{"y", "z", "x"}) {
			t.Fatalf("outputs %v, want [y z x] (images keep their class names)", r.Classes)
		}
	}
}
