package dataset

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

func grayImage(w, h int, v ...uint8) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	copy(m.Pix, v)
	return m
}

func near(t *testing.T, got, want []float32, tol float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i] - want[i]; d > tol || d < -tol {
			t.Fatalf("[%d] = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

func graySpec(h, w int, resize string) Spec {
	s := DefaultSpec(h, w)
	s.Channels, s.Scale, s.Resize = 1, 1, resize
	return s
}

// Hand-computed half-pixel-center bilinear upscale 2x2 -> 4x4:
// x in = (x+0.5)/2-0.5 = -0.25, 0.25, 0.75, 1.25 -> taps (0,0), (0,1,.25),
// (0,1,.75), (1,1).
func TestBilinearHalfPixelUpscale(t *testing.T) {
	img := grayImage(2, 2, 0, 100, 200, 40)
	dst := make([]float32, 16)
	if err := graySpec(4, 4, ResizeBilinear).Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{
		0, 25, 75, 100,
		50, 58.75, 76.25, 85,
		150, 126.25, 78.75, 55,
		200, 160, 80, 40,
	}, 1e-4)
}

// Downscale 4 -> 2: in = (x+0.5)*2-0.5 = 0.5, 2.5: averages of pairs.
func TestBilinearDownscale(t *testing.T) {
	img := grayImage(4, 1, 0, 10, 20, 50)
	dst := make([]float32, 2)
	if err := graySpec(1, 2, ResizeBilinear).Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{5, 35}, 1e-5)
}

// Area 3 -> 2: out0 covers [0,1.5): (a + b/2)/1.5, out1 covers [1.5,3).
func TestAreaResize(t *testing.T) {
	img := grayImage(3, 1, 0, 30, 60)
	dst := make([]float32, 2)
	if err := graySpec(1, 2, ResizeArea).Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{10, 50}, 1e-4)
	// 2-D: 4x4 -> 2x2 averages 2x2 blocks.
	img = grayImage(4, 4, 0, 4, 8, 8, 4, 0, 8, 8, 1, 1, 2, 2, 1, 1, 2, 2)
	dst = make([]float32, 4)
	if err := graySpec(2, 2, ResizeArea).Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{2, 8, 1, 2}, 1e-4)
}

func TestIdentityResizeAndChannels(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 0}) // alpha dropped, not premultiplied
	img.SetNRGBA(1, 0, color.NRGBA{40, 50, 60, 255})
	s := DefaultSpec(1, 2)
	s.Scale = 1
	dst := make([]float32, 6)
	if err := s.Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{10, 20, 30, 40, 50, 60}, 0)
	s.ChannelOrder = OrderBGR
	if err := s.Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{30, 20, 10, 60, 50, 40}, 0)
	s.ChannelOrder = OrderRGB
	s.Mean, s.Std = []float32{10, 20, 30}, []float32{2, 4, 5}
	if err := s.Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{0, 0, 0, 15, 7.5, 6}, 1e-5)
	// Grey output uses tf.image.rgb_to_grayscale weights.
	g := DefaultSpec(1, 2)
	g.Channels, g.Scale = 1, 1
	out := make([]float32, 2)
	if err := g.Apply(img, nil, out); err != nil {
		t.Fatal(err)
	}
	near(t, out, []float32{0.2989*10 + 0.587*20 + 0.114*30, 0.2989*40 + 0.587*50 + 0.114*60}, 1e-3)
}

func TestROICrop(t *testing.T) {
	img := grayImage(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	dst := make([]float32, 4)
	roi := image.Rect(1, 1, 3, 3)
	s := graySpec(2, 2, ResizeBilinear)
	if err := s.Apply(img, &roi, dst); err != nil {
		t.Fatal(err)
	}
	near(t, dst, []float32{5, 6, 8, 9}, 0)
	s.Crop = CropNone
	dst1 := make([]float32, 9)
	s.Height, s.Width = 3, 3
	if err := s.Apply(img, &roi, dst1); err != nil {
		t.Fatal(err)
	}
	near(t, dst1, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0)
	s = graySpec(2, 2, ResizeBilinear)
	far := image.Rect(10, 10, 12, 12)
	if err := s.Apply(img, &far, dst); err == nil {
		t.Fatal("roi outside the image: want error")
	}
}

func TestSpecRoundTripAndGraph(t *testing.T) {
	s := DefaultSpec(80, 64)
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Height != 80 || got.Width != 64 || got.Scale != s.Scale || got.Resize != "bilinear" || got.Crop != "roi" {
		t.Fatalf("round trip: %+v", got)
	}
	g := &graph.Graph{}
	if _, ok, err := SpecFromGraph(g); ok || err != nil {
		t.Fatalf("empty graph: ok=%v err=%v", ok, err)
	}
	if err := s.Store(g); err != nil {
		t.Fatal(err)
	}
	got, ok, err := SpecFromGraph(g)
	if !ok || err != nil || got.Width != 64 {
		t.Fatalf("from graph: %+v %v %v", got, ok, err)
	}
	if err := got.CheckShape([]int{1, 80, 64, 3}); err != nil {
		t.Fatal(err)
	}
	if err := got.CheckShape([]int{1, 64, 80, 3}); err == nil {
		t.Fatal("wrong shape accepted")
	}
	// Defaults for missing strings; errors for bad values and typos.
	d, err := ParseSpec([]byte(`{"height":2,"width":2,"channels":1,"scale":1}`))
	if err != nil || d.Resize != ResizeBilinear || d.ChannelOrder != OrderRGB {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	for _, bad := range []string{
		`{"height":0,"width":2,"channels":1,"scale":1}`,
		`{"height":2,"width":2,"channels":2,"scale":1}`,
		`{"height":2,"width":2,"channels":3,"scale":0}`,
		`{"height":2,"width":2,"channels":3,"scale":1,"resize":"cubic"}`,
		`{"height":2,"width":2,"channels":3,"scale":1,"mean":[1,2,3],"std":[1,0,1]}`,
		`{"height":2,"width":2,"channels":3,"scale":1,"sclae":2}`,
		`{"height":100000,"width":2,"channels":3,"scale":1}`,
		`not json`,
	} {
		if _, err := ParseSpec([]byte(bad)); err == nil {
			t.Errorf("ParseSpec(%s): want error", bad)
		}
	}
	g.Metadata[graph.MetadataPreprocess] = []byte("{")
	if _, ok, err := SpecFromGraph(g); !ok || err == nil || !strings.Contains(err.Error(), graph.MetadataPreprocess) {
		t.Fatalf("corrupt metadata: ok=%v err=%v", ok, err)
	}
}

func TestQuantizeInput(t *testing.T) {
	// scale 0.5: x/scale = 0, 0.5, -0.5, 1.5, 200, -200; halves round away
	// from zero, then +zp and clamp.
	src := []float32{0, 0.25, -0.25, 0.75, 100, -100}
	q := make([]int8, len(src))
	QuantizeInt8(src, 0.5, 0, q)
	want := []int8{0, 1, -1, 2, 127, -128}
	for i := range want {
		if q[i] != want[i] {
			t.Fatalf("int8 %v, want %v", q, want)
		}
	}
	u := make([]uint8, len(src))
	QuantizeUint8(src, 0.5, 128, u)
	if u[0] != 128 || u[1] != 129 || u[2] != 127 || u[4] != 255 || u[5] != 0 {
		t.Fatalf("uint8 %v", u)
	}
}
