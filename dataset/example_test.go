package dataset_test

import (
	"fmt"
	"image"

	"github.com/qbench/qbench/dataset"
)

// A 2x2 grey image resized to 4x4 the way tf.image.resize does it
// (bilinear, half-pixel centres), without scaling.
func ExampleSpec_Apply() {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(img.Pix, []uint8{0, 100, 200, 40})
	spec := dataset.DefaultSpec(4, 4)
	spec.Channels, spec.Scale = 1, 1
	out := make([]float32, spec.Size())
	if err := spec.Apply(img, nil, out); err != nil {
		panic(err)
	}
	for y := 0; y < 4; y++ {
		fmt.Println(out[4*y : 4*y+4])
	}
	// Output:
	// [0 25 75 100]
	// [50 58.75 76.25 85]
	// [150 126.25 78.75 55]
	// [200 160 80 40]
}

func ExampleParseLabelMap() {
	m, err := dataset.ParseLabelMap([]byte(`
classes: [CROSSWALK, NSPEEDLIMIT]
folders:
  Speed20EndSigns: NSPEEDLIMIT
  Speed30EndSigns: NSPEEDLIMIT
splits:
  train: [rec1, rec2]
  verification: [rec3]
`), "labels.yaml")
	if err != nil {
		panic(err)
	}
	for _, f := range []string{"CROSSWALK", "Speed30EndSigns", "1", "Other"} {
		id, ok := m.ClassOf(f)
		fmt.Println(f, id, ok)
	}
	// Output:
	// CROSSWALK 0 true
	// Speed30EndSigns 1 true
	// 1 1 true
	// Other 0 false
}

func ExampleSpec_Marshal() {
	b, _ := dataset.DefaultSpec(80, 80).Marshal()
	fmt.Println(string(b))
	// Output:
	// {"version":1,"height":80,"width":80,"channels":3,"channel_order":"RGB","resize":"bilinear","crop":"roi","scale":0.003921569,"offset":0}
}
