package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/graph"
	"gopkg.in/yaml.v3"

	"github.com/qbench/qbench/internal/fileio"
)

// Arch describes a plain CNN of the study's family:
//
//	input H×W×C → for each f in Filters: [conv K×K SAME (f filters) → max-pool 2x2 → ReLU]
//	→ flatten → for each d in Dense: [dense d → ReLU] → dense Classes → softmax
//
// An architecture file (JSON or YAML, chosen by extension; YAML is used for
// anything not ending in .json) holds the same fields, e.g.
//
//	{"name": "small", "input": [48, 48, 3], "filters": [8, 16], "kernel": 3, "dense": [64], "classes": 10}
//
// Classes may be 0 in a file; the trainer then takes it from the dataset.
type Arch struct {
	Name string `json:"name" yaml:"name"`
	// Input is [height, width, channels].
	Input   [3]int `json:"input" yaml:"input"`
	Filters []int  `json:"filters" yaml:"filters"`
	// Kernel is the square conv kernel size (default 3).
	Kernel int `json:"kernel,omitempty" yaml:"kernel,omitempty"`
	// Padding is "SAME" (default) or "VALID" for every conv.
	Padding string `json:"padding,omitempty" yaml:"padding,omitempty"`
	Dense   []int  `json:"dense" yaml:"dense"`
	Classes int    `json:"classes" yaml:"classes"`
}

// SeedCNN returns the study's network: 80x80x3 input, four conv blocks with
// 16, 32, 64 and 128 filters, a 256-wide hidden dense layer and classes outputs.
func SeedCNN(classes int) Arch {
	return Arch{Name: "seed-cnn", Input: [3]int{80, 80, 3}, Filters: []int{16, 32, 64, 128},
		Kernel: 3, Padding: "SAME", Dense: []int{256}, Classes: classes}
}

// maxArchBytes bounds an architecture file; real ones are under 1 KiB.
const maxArchBytes = 1 << 20

// LoadArch reads an architecture file (JSON, or YAML for any other extension).
func LoadArch(path string) (Arch, error) {
	b, err := fileio.ReadFile(path, maxArchBytes)
	if err != nil {
		return Arch{}, fmt.Errorf("architecture file %w", err)
	}
	var a Arch
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&a)
	} else {
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		err = dec.Decode(&a)
	}
	if err != nil {
		return Arch{}, fmt.Errorf("architecture file %s: %w", path, err)
	}
	if a.Kernel == 0 {
		a.Kernel = 3
	}
	if a.Padding == "" {
		a.Padding = "SAME"
	}
	return a, nil
}

// Limits that keep a typo in a flag or file from allocating gigabytes.
const (
	maxExtent   = 4096
	maxWidth    = 8192
	maxParams   = 200 << 20 // 200M parameters
	maxChannels = 64
	// maxActivations bounds the floats one image needs in the training
	// workspace (input, per conv its patch matrix, output and gradient,
	// pooled map and gradient): Validate refuses an architecture above it,
	// whose parameters may be few but whose first feature maps are huge.
	maxActivations = 1 << 27
)

// Validate checks that the architecture is buildable and of sane size.
func (a Arch) Validate() error {
	h, w, c := a.Input[0], a.Input[1], a.Input[2]
	if h <= 0 || w <= 0 || c <= 0 || h > maxExtent || w > maxExtent || c > maxChannels {
		return fmt.Errorf("arch %q: input %v out of range (1..%d pixels, 1..%d channels)", a.Name, a.Input, maxExtent, maxChannels)
	}
	if a.Kernel <= 0 || a.Kernel > 15 {
		return fmt.Errorf("arch %q: kernel %d out of range 1..15", a.Name, a.Kernel)
	}
	if a.Padding != "SAME" && a.Padding != "VALID" {
		return fmt.Errorf("arch %q: padding %q is not SAME or VALID", a.Name, a.Padding)
	}
	if a.Classes < 2 || a.Classes > maxWidth {
		return fmt.Errorf("arch %q: %d classes, need 2..%d", a.Name, a.Classes, maxWidth)
	}
	for i, f := range a.Filters {
		if f <= 0 || f > maxWidth {
			return fmt.Errorf("arch %q: filters[%d] = %d out of range 1..%d", a.Name, i, f, maxWidth)
		}
	}
	for i, d := range a.Dense {
		if d <= 0 || d > maxWidth {
			return fmt.Errorf("arch %q: dense[%d] = %d out of range 1..%d", a.Name, i, d, maxWidth)
		}
	}
	params, acts := 0, h*w*c
	for i, f := range a.Filters {
		g := a.convGeom(i, h, w, c)
		if g.OH <= 0 || g.OW <= 0 {
			return fmt.Errorf("arch %q: conv %d: input %dx%d too small for a %dx%d %s kernel", a.Name, i, h, w, a.Kernel, a.Kernel, a.Padding)
		}
		acts += g.OH*g.OW*(g.K()+2*f) + 2*(g.OH/2)*(g.OW/2)*f
		if acts > maxActivations {
			return fmt.Errorf("arch %q: conv %d: more than %d activation values per image (%dx%d input, %d filters)", a.Name, i, maxActivations, h, w, f)
		}
		h, w = g.OH/2, g.OW/2
		if h <= 0 || w <= 0 {
			return fmt.Errorf("arch %q: block %d: feature map %dx%d too small to max-pool 2x2", a.Name, i, g.OH, g.OW)
		}
		params += f * (g.K() + 1)
		c = f
	}
	in := h * w * c
	for _, d := range append(append([]int(nil), a.Dense...), a.Classes) {
		params += d * (in + 1)
		in = d
		if params > maxParams {
			break
		}
	}
	if params > maxParams {
		return fmt.Errorf("arch %q: more than %d parameters", a.Name, maxParams)
	}
	return nil
}

func (a Arch) padding() graph.Padding {
	if a.Padding == "VALID" {
		return graph.PaddingValid
	}
	return graph.PaddingSame
}

// convGeom returns conv block i's geometry for an h×w×cin input.
func (a Arch) convGeom(i, h, w, cin int) convGeom {
	return newConvGeom(h, w, cin, a.Kernel, a.Kernel, a.Filters[i], 1, a.padding())
}

// String is a compact one-line description, e.g. "seed-cnn 80x80x3 c16-32-64-128 d256 k30".
func (a Arch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %dx%dx%d c", a.Name, a.Input[0], a.Input[1], a.Input[2])
	for i, f := range a.Filters {
		if i > 0 {
			b.WriteByte('-')
		}
		fmt.Fprint(&b, f)
	}
	b.WriteString(" d")
	for i, d := range a.Dense {
		if i > 0 {
			b.WriteByte('-')
		}
		fmt.Fprint(&b, d)
	}
	fmt.Fprintf(&b, " k%d", a.Classes)
	return b.String()
}
