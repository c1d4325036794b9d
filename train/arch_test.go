package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadArch(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "a.json")
	ym := filepath.Join(dir, "a.yaml")
	os.WriteFile(js, []byte(`{"name": "small", "input": [48, 40, 3], "filters": [8, 16], "dense": [64], "classes": 10}`), 0o644)
	os.WriteFile(ym, []byte("name: small\ninput: [48, 40, 3]\nfilters: [8, 16]\ndense: [64]\nclasses: 10\n"), 0o644)
	for _, p := range []string{js, ym} {
		a, err := LoadArch(p)
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != "small 48x40x3 c8-16 d64 k10" || a.Kernel != 3 || a.Padding != "SAME" {
			t.Fatalf("%s: %+v", p, a)
		}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(js, []byte(`{"name": "x", "inputs": [1, 1, 1]}`), 0o644)
	if _, err := LoadArch(js); err == nil || !strings.Contains(err.Error(), "inputs") {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := LoadArch(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestArchValidate(t *testing.T) {
	ok := SeedCNN(30)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(a *Arch){
		func(a *Arch) { a.Input = [3]int{0, 80, 3} },
		func(a *Arch) { a.Input = [3]int{80, 80, 100} },
		func(a *Arch) { a.Classes = 1 },
		func(a *Arch) { a.Filters = []int{16, 32, 64, 128, 256, 512, 1024} }, // pools below 1 pixel
		func(a *Arch) { a.Filters = []int{-1} },
		func(a *Arch) { a.Dense = []int{8192, 8192, 8192, 8192} },
		func(a *Arch) { a.Padding = "FULL" },
		func(a *Arch) { a.Kernel = 0 },
		func(a *Arch) { a.Input = [3]int{4000, 4000, 3}; a.Filters = []int{8}; a.Dense = []int{8192} }, // > 200M params
	}
	for i, f := range bad {
		a := SeedCNN(30)
		a.Filters = append([]int(nil), a.Filters...)
		f(&a)
		if err := a.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, a)
		}
	}
}
