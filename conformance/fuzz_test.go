package conformance

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// FuzzCase feeds arbitrary bytes to ParseCase and runs every kernel case
// that parses through KernelGraph and the interpreter: a corrupt case must
// come back as a failed Result with a reason, never a panic, a hang or an
// allocation its shapes merely claim. Seeds are the smallest reference
// cases (when ../shared is present) and hand-made edge cases; crashers are
// kept in testdata/fuzz/FuzzCase.
func FuzzCase(f *testing.F) {
	for _, s := range []string{
		`{"format":"tflm-ref-case/v1","kind":"kernel","name":"relu","op":"RELU","options":{},"inputs":[{"name":"input","dtype":"float32","shape":[3],"data":[-1,0,"inf"]}],"outputs":[{"name":"output","dtype":"float32","shape":[3],"compare":"raw","expected":[0,0,"inf"],"tolerance":0}]}`,
		`{"format":"tflm-ref-case/v1","kind":"kernel","name":"big","op":"RELU","options":{},"inputs":[{"name":"input","dtype":"float32","shape":[1],"data":[1]}],"outputs":[{"name":"output","dtype":"float32","shape":[1000000000,1000000000],"compare":"raw","expected":[1]}]}`,
		`{"format":"tflm-ref-case/v1","kind":"kernel","name":"neg","op":"ADD","options":{"fused_activation_function":"RELU"},"inputs":[{"name":"input1","dtype":"int8","shape":[-1,-1],"quantization":{"scale":[0.5],"zero_point":[3]},"data":[1]},{"name":"input2","dtype":"int8","shape":[1],"quantization":{"scale":[0],"zero_point":[-128]},"data":[2]}],"outputs":[{"name":"output","dtype":"int8","shape":[1],"quantization":{"scale":[1e-40],"zero_point":[0]},"compare":"dequantized","expected":[1],"reference":[1]}]}`,
		`{"format":"tflm-ref-case/v1","kind":"kernel","name":"conv","op":"CONV_2D","options":{"padding":"SAME","stride_w":0,"stride_h":1},"inputs":[{"name":"input","dtype":"float32","shape":[1,1,1,1],"data":[1]},{"name":"filter","dtype":"float32","shape":[1,1,1,1],"data":[1]},{"name":"bias","omitted":true}],"outputs":[{"name":"output","dtype":"float32","shape":[1,1,1,1],"compare":"argmax","expected_argmax":0}]}`,
		`{"format":"tflm-ref-case/v1","kind":"model","name":"m","model":"x.tflite","invocations":[{"inputs":[{"index":-1,"data":[1]}],"outputs":[]}]}`,
		`{"format":"other"}`,
	} {
		f.Add([]byte(s))
	}
	addReferenceSeeds(f, 12)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCase(data, "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if c.Kind != "kernel" {
			return // model cases read a .tflite file: FuzzRead covers that parser
		}
		if r := RunCase(c, "", "fuzz.json"); !r.Pass && r.Reason == "" {
			t.Fatal("failed case without a reason")
		}
	})
}

// addReferenceSeeds adds the n smallest kernel cases of the reference
// suite, when ../shared is present.
func addReferenceSeeds(f *testing.F, n int) {
	shared, err := testshared.Find()
	if err != nil {
		return
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "reference", "tflite-micro", "kernels", "*", "*.json"))
	type file struct {
		path string
		size int64
	}
	var files []file
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			files = append(files, file{p, st.Size()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].size < files[j].size })
	// One per op folder first, so the seeds span many kernels.
	seen := map[string]bool{}
	for _, fl := range files {
		op := filepath.Base(filepath.Dir(fl.path))
		if n == 0 || seen[op] {
			continue
		}
		if b, err := os.ReadFile(fl.path); err == nil {
			f.Add(b)
			seen[op] = true
			n--
		}
	}
}

// A kernel case's output shape alone sized the output buffer: a corrupt
// shape such as [1e9, 1e9] (or negative dimensions whose product looks
// small) must be refused with the tensor's name before anything is built.
func TestCaseShapeLimits(t *testing.T) {
	for shape, want := range map[string]string{
		`[1000000000,1000000000]`:             `tensor "output": shape [1000000000 1000000000]: more than 16777216 elements`,
		`[-1,-1]`:                             `tensor "output": shape [-1 -1]: negative dimension`,
		`[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]`: `rank 17 above 16`,
	} {
		b := `{"format":"tflm-ref-case/v1","kind":"kernel","name":"x","op":"RELU","options":{},` +
			`"inputs":[{"name":"input","dtype":"float32","shape":[1],"data":[1]}],` +
			`"outputs":[{"name":"output","dtype":"float32","shape":` + shape + `,"expected":[1]}]}`
		c, err := ParseCase([]byte(b), "x.json")
		if err != nil {
			t.Fatal(err)
		}
		r := RunCase(c, "", "x.json")
		if r.Pass || !strings.Contains(r.Reason, want) {
			t.Errorf("shape %s: pass=%v reason %q, want %q", shape, r.Pass, r.Reason, want)
		}
	}
	if _, err := ParseCase([]byte(`{"format":"x"}`), "y.json"); err == nil || !strings.Contains(err.Error(), "y.json") {
		t.Errorf("wrong format: %v", err)
	}
}
