package train_test

import (
	"context"
	"fmt"

	"github.com/qbench/qbench/train"
)

// Example trains a small CNN on in-memory images (class k has a bright
// left, middle or right third) and exports it as a TFLite-style graph.
// From a dataset folder, train.Load fills the Data instead.
func Example() {
	const n, h, w, c = 96, 12, 12, 1
	data, _ := train.NewData(n, h, w, c, []string{"left", "middle", "right"})
	img := make([]float32, h*w*c)
	for i := range n {
		k := i % 3
		for y := range h {
			for x := range w {
				v := float32((x*5+y*3+i*7)%10) / 20
				if x/4 == k {
					v += 1
				}
				img[y*w+x] = v
			}
		}
		_ = data.Set(i, img, k)
	}
	arch := train.Arch{Name: "mini", Input: [3]int{h, w, c}, Filters: []int{4}, Kernel: 3, Padding: "SAME", Dense: []int{8}}
	res, err := train.Run(context.Background(), train.Config{Arch: arch, Epochs: 8, BatchSize: 16, Seed: 1,
		Optim: train.OptimConfig{Name: train.OptAdam, LR: 0.02}}, data, data, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := res.Best.Graph() // write with tflite.WriteFile(path, g)
	fmt.Println(res.Best.Arch, "ops:", len(g.Ops), "val accuracy ≥ 0.9:", res.BestValAcc >= 0.9)
	// Output: mini 12x12x1 c4 d8 k3 ops: 7 val accuracy ≥ 0.9: true
}
