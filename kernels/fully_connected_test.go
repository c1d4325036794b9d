package kernels

import (
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

func TestFullyConnectedReferenceCases(t *testing.T) { runRefDir(t, "fully_connected") }

func runFC(t *testing.T, opts *graph.FullyConnectedOptions, ins []*graph.Tensor, out *graph.Tensor, x *Buffer) *Buffer {
	t.Helper()
	op := &graph.Op{Kind: graph.OpFullyConnected, Options: opts}
	k, err := prepareFullyConnected(op, ins, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	y := refBuffer(out.DType, out.Shape, nil)
	if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	return y
}

func TestFullyConnectedFloatHand(t *testing.T) {
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{2, 2}}
	w := constF32("w", []int{2, 2}, []float32{1, 1, 1, -1})
	b := constF32("b", []int{2}, []float32{0.5, 0})
	// keep_num_dims only shapes the output; a [2,1,2] output works too.
	for _, shape := range [][]int{{2, 2}, {2, 1, 2}} {
		out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: shape}
		y := runFC(t, &graph.FullyConnectedOptions{Activation: graph.ActRelu, KeepNumDims: len(shape) == 3}, []*graph.Tensor{in, w, b}, out,
			&Buffer{DType: graph.Float32, F32: []float32{1, 2, 3, 4}})
		want := []float32{3.5, 0, 7.5, 0}
		for i := range want {
			if y.F32[i] != want[i] {
				t.Fatalf("FC = %v, want %v", y.F32, want)
			}
		}
	}
	// No bias, no activation.
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{2, 2}}
	y := runFC(t, nil, []*graph.Tensor{in, w, nil}, out, &Buffer{DType: graph.Float32, F32: []float32{1, 2, 3, 4}})
	if y.F32[1] != -1 || y.F32[2] != 7 {
		t.Errorf("FC without bias = %v", y.F32)
	}
}

func TestFullyConnectedInt8WeightOffset(t *testing.T) {
	// Per-tensor weights [3 4] with zero point 1 are real (2, 3); input
	// [1 2] with zero point 1 is real (0, 1): output 3 (+ bias 4 = 7).
	in := qt("in", graph.Int8, []int{1, 2}, []float32{1}, []int64{1})
	w := constI8("w", graph.Int8, []int{1, 2}, []int8{3, 4}, []float32{1})
	w.Quant.ZeroPoint = []int64{1}
	out := qt("out", graph.Int8, []int{1, 1}, []float32{1}, []int64{0})
	y := runFC(t, nil, []*graph.Tensor{in, w, constI32("b", []int32{4}, nil)}, out, &Buffer{DType: graph.Int8, I8: []int8{1, 2}})
	if y.I8[0] != 7 {
		t.Errorf("FC with weight offset = %d, want 7", y.I8[0])
	}
	// Per-channel weights must be symmetric.
	w2 := constI8("w", graph.Int8, []int{2, 2}, []int8{3, 4, 5, 6}, []float32{1, 1})
	w2.Quant.ZeroPoint = []int64{0, 1}
	op := &graph.Op{Kind: graph.OpFullyConnected}
	if _, err := prepareFullyConnected(op, []*graph.Tensor{in, w2}, []*graph.Tensor{qt("out", graph.Int8, []int{1, 2}, []float32{1}, []int64{0})}); err == nil {
		t.Error("asymmetric per-channel weights accepted")
	}
}

func TestFullyConnected16x8AccumulatorWidth(t *testing.T) {
	// acc = −2 with multiplier 1/4: TFLite's int32 path (int32 or no bias)
	// rounds −0.5 twice to −1; the int64 path (int64 bias) rounds once to 0.
	in := qt("in", graph.Int16, []int{1, 1}, []float32{1}, []int64{0})
	w := constI8("w", graph.Int8, []int{1, 1}, []int8{1}, []float32{1})
	out := qt("out", graph.Int16, []int{1, 1}, []float32{4}, []int64{0})
	x := &Buffer{DType: graph.Int16, I16: []int16{-2}}
	b64 := &graph.Tensor{Name: "b", DType: graph.Int64, Shape: []int{1}, Data: graph.EncodeInt64s([]int64{0})}
	for _, c := range []struct {
		name string
		bias *graph.Tensor
		want int16
	}{{"no bias", nil, -1}, {"int32 bias", constI32("b", []int32{0}, nil), -1}, {"int64 bias", b64, 0}} {
		if y := runFC(t, nil, []*graph.Tensor{in, w, c.bias}, out, x); y.I16[0] != c.want {
			t.Errorf("%s: %d, want %d", c.name, y.I16[0], c.want)
		}
	}
}

func TestFullyConnectedInt8MatchesNaive(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for iter := 0; iter < 100; iter++ {
		// More than fcChunkRows rows now and then to cross a chunk.
		rows, depth, n := 1+r.Intn(300), 1+r.Intn(40), 1+r.Intn(20)
		xs := make([]int8, rows*depth)
		for i := range xs {
			xs[i] = int8(r.Intn(256) - 128)
		}
		ws := make([]int8, n*depth)
		for i := range ws {
			ws[i] = int8(r.Intn(255) - 127)
		}
		zpIn, zpOut := int32(r.Intn(256)-128), int32(r.Intn(256)-128)
		sIn, sW, sOut := float32(0.01+r.Float64()), float32(0.001+r.Float64()*0.01), float32(0.05+r.Float64())
		in := qt("in", graph.Int8, []int{rows, depth}, []float32{sIn}, []int64{int64(zpIn)})
		out := qt("out", graph.Int8, []int{rows, n}, []float32{sOut}, []int64{int64(zpOut)})
		y := runFC(t, nil, []*graph.Tensor{in, constI8("w", graph.Int8, []int{n, depth}, ws, []float32{sW}), nil}, out, &Buffer{DType: graph.Int8, I8: xs})
		m, s := fixedpoint.QuantizeMultiplier(float64(sIn) * float64(sW) / float64(sOut))
		for i := 0; i < rows; i++ {
			for j := 0; j < n; j++ {
				var acc int32
				for p := 0; p < depth; p++ {
					acc += int32(ws[j*depth+p]) * (int32(xs[i*depth+p]) - zpIn)
				}
				v := min(max(fixedpoint.MultiplyByQuantizedMultiplier(acc, m, s)+zpOut, -128), 127)
				if int32(y.I8[i*n+j]) != v {
					t.Fatalf("rows %d depth %d n %d: out[%d][%d] = %d, naive %d", rows, depth, n, i, j, y.I8[i*n+j], v)
				}
			}
		}
	}
}

func TestFullyConnectedErrors(t *testing.T) {
	in := qt("in", graph.Int8, []int{2, 3}, []float32{1}, []int64{0})
	w := constI8("w", graph.Int8, []int{4, 3}, make([]int8, 12), []float32{1})
	op := &graph.Op{Kind: graph.OpFullyConnected}
	for name, c := range map[string]struct {
		ins []*graph.Tensor
		out *graph.Tensor
	}{
		"output width":   {[]*graph.Tensor{in, w}, qt("out", graph.Int8, []int{2, 3}, []float32{1}, []int64{0})},
		"depth mismatch": {[]*graph.Tensor{qt("in", graph.Int8, []int{2, 5}, []float32{1}, []int64{0}), w}, qt("out", graph.Int8, []int{2, 4}, []float32{1}, []int64{0})},
		"1-D weights":    {[]*graph.Tensor{in, constI8("w", graph.Int8, []int{12}, make([]int8, 12), []float32{1})}, qt("out", graph.Int8, []int{2, 4}, []float32{1}, []int64{0})},
		"uint8":          {[]*graph.Tensor{qt("in", graph.UInt8, []int{2, 3}, []float32{1}, []int64{0}), w}, qt("out", graph.UInt8, []int{2, 4}, []float32{1}, []int64{0})},
	} {
		if _, err := prepareFullyConnected(op, c.ins, []*graph.Tensor{c.out}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	k, err := prepareFullyConnected(op, []*graph.Tensor{in, w}, []*graph.Tensor{qt("out", graph.Int8, []int{2, 4}, []float32{1}, []int64{0})})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Run([]*Buffer{{DType: graph.Int8, I8: make([]int8, 5)}}, []*Buffer{{DType: graph.Int8, I8: make([]int8, 8)}}); err == nil {
		t.Error("5-element input for depth 3 accepted")
	}
	if err := k.Run([]*Buffer{{DType: graph.Int8, I8: make([]int8, 6)}}, []*Buffer{{DType: graph.Int8, I8: make([]int8, 7)}}); err == nil {
		t.Error("short output accepted")
	}
}

// TestFullyConnectedInt8Shapes runs the int8 dense layer at batch 1..9
// (the one-row, few-row and tile paths of gemm.PackS8Rows) with depths
// not a multiple of 2, 4 or 16, widths not a multiple of 8 or 16, input
// zero points at both ends, every rounding mode, RELU and none, against
// plain accumulators requantized per element by the layer's own
// reference arithmetic (requant.apply32).
func TestFullyConnectedInt8Shapes(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {5, 17}, {7, 30}, {17, 33}, {33, 16}, {255, 67}, {3200, 256}} {
			depth, n := sh[0], sh[1]
			for batch := 1; batch <= 9; batch++ {
				zpIn := []int32{-128, 127, int32(r.Intn(256) - 128)}[batch%3]
				act := []graph.Activation{graph.ActNone, graph.ActRelu}[batch%2]
				xs, ws := make([]int8, batch*depth), make([]int8, n*depth)
				for i := range xs {
					xs[i] = int8(r.Intn(256) - 128)
				}
				for i := range ws {
					ws[i] = int8(r.Intn(255) - 127)
				}
				bias := make([]int32, n)
				for j := range bias {
					bias[j] = int32(r.Intn(20001) - 10000)
				}
				sIn, sW, sOut := float32(0.01+r.Float64()*0.05), float32(0.001+r.Float64()*0.005), float32(0.05+r.Float64()*2)
				in := qt("in", graph.Int8, []int{batch, depth}, []float32{sIn}, []int64{int64(zpIn)})
				out := qt("out", graph.Int8, []int{batch, n}, []float32{sOut}, []int64{int64(r.Intn(256) - 128)})
				ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{n, depth}, ws, []float32{sW}), constI32("b", bias, []float32{sIn * sW})}
				op := &graph.Op{Kind: graph.OpFullyConnected, Options: &graph.FullyConnectedOptions{Activation: act}}
				k, err := prepareFullyConnectedRounding(op, ins, []*graph.Tensor{out}, rnd)
				if err != nil {
					t.Fatal(err)
				}
				y := &Buffer{DType: graph.Int8, I8: make([]int8, batch*n)}
				if err := k.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{y}); err != nil {
					t.Fatal(err)
				}
				rq := k.(*fcInt8).rq
				for i := 0; i < batch; i++ {
					for j := 0; j < n; j++ {
						var acc int32
						for p := 0; p < depth; p++ {
							acc += int32(ws[j*depth+p]) * (int32(xs[i*depth+p]) - zpIn)
						}
						if got, want := int32(y.I8[i*n+j]), rq.apply32(acc, j); got != want {
							t.Fatalf("%v %dx%d batch %d zp %d act %v: out[%d][%d] = %d, reference %d", rnd, depth, n, batch, zpIn, act, i, j, got, want)
						}
					}
				}
			}
		}
	}
}
