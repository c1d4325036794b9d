package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadArch writes arbitrary bytes as an architecture file, both as
// .json and as .yaml, and checks that LoadArch and Validate fail cleanly
// (the error naming the file or the arch) or accept an architecture whose
// parameters and per-image activations are within the limits — Validate is
// the guard every allocation in New and the workspace relies on.
func FuzzLoadArch(f *testing.F) {
	for _, s := range []string{
		`{"name": "small", "input": [48, 48, 3], "filters": [8, 16], "kernel": 3, "dense": [64], "classes": 10}`,
		"name: seed\ninput: [80, 80, 3]\nfilters: [16, 32, 64, 128]\nkernel: 3\npadding: SAME\ndense: [256]\nclasses: 43\n",
		`{"input": [1000000, 1000000, 3], "filters": [1000000000], "dense": [], "classes": 2}`,
		`{"input": [4096, 4096, 64], "filters": [8192], "kernel": 15, "dense": [8192], "classes": 8192}`,
		`{"input": [4, 4, 1], "filters": [1, 1, 1], "padding": "VALID", "kernel": 3, "dense": [2], "classes": 2}`,
		`{"input": [8, 8, 3], "filters": [], "dense": [8192, 8192, 8192, 8192], "classes": 8192}`,
		"input: [8, 8]\nclasses: -1\nextra: 1\n",
		"input: &a [8, 8, 3]\nfilters: [*a]\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"arch.json", "arch.yaml"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := LoadArch(p)
			if err != nil {
				if !strings.Contains(err.Error(), p) {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			if a.Classes == 0 {
				a.Classes = 10 // the trainer takes it from the dataset
			}
			if err := a.Validate(); err != nil {
				if !strings.HasPrefix(err.Error(), "arch ") {
					t.Fatalf("error %q does not name the arch", err)
				}
				continue
			}
			params, acts := archSize(a)
			if params > maxParams || acts > maxActivations {
				t.Fatalf("%s accepted with %.0f parameters, %.0f activations per image", a, params, acts)
			}
			_ = a.String()
		}
	})
}

// archSize recomputes, independently of Validate, the parameter count and
// the per-image activation values of a valid arch (in float64, so that
// nothing overflows).
func archSize(a Arch) (params, acts float64) {
	h, w, c := a.Input[0], a.Input[1], a.Input[2]
	acts = float64(h * w * c)
	k := a.Kernel
	for _, f := range a.Filters {
		oh, ow := h, w
		if a.Padding == "VALID" {
			oh, ow = h-k+1, w-k+1
		}
		kk := float64(k * k * c)
		params += float64(f) * (kk + 1)
		acts += float64(oh*ow)*(kk+2*float64(f)) + 2*float64((oh/2)*(ow/2)*f)
		h, w, c = oh/2, ow/2, f
	}
	in := float64(h * w * c)
	for _, d := range append(append([]int(nil), a.Dense...), a.Classes) {
		params += float64(d) * (in + 1)
		in = float64(d)
	}
	return params, acts
}

// A 4096x4096x64 input with eight 15x15 filters has 67M parameters, within
// the limit, yet its first patch matrix alone is 2.4e11 floats per image
// (a terabyte): Validate must refuse it.
func TestValidateRefusesHugeActivations(t *testing.T) {
	a := Arch{Name: "wide", Input: [3]int{4096, 4096, 64}, Filters: []int{8}, Kernel: 15, Padding: "SAME", Dense: nil, Classes: 2}
	err := a.Validate()
	if err == nil || !strings.Contains(err.Error(), "activation values per image") {
		t.Fatalf("Validate = %v, want the activation limit", err)
	}
	if err := SeedCNN(43).Validate(); err != nil {
		t.Fatalf("seed CNN: %v", err)
	}
	big := Arch{Name: "big", Input: [3]int{512, 512, 3}, Filters: []int{32, 64}, Kernel: 3, Padding: "SAME", Dense: []int{64}, Classes: 10}
	if err := big.Validate(); err != nil {
		t.Fatalf("512x512 arch: %v", err)
	}
}
