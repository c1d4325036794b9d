package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// hybridCase is a random hybrid CONV_2D, DEPTHWISE_CONV_2D or
// FULLY_CONNECTED: float input and output, int8 weights, float bias. scales
// picks the weight scales: 0 one, 1 one per output channel (differing), 2
// one per output channel, all equal. DEPTHWISE_CONV_2D always has one per
// channel (1 or 2).
func hybridCase(r *rand.Rand, kind graph.OpKind, i, scales int) u8Case {
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
	in := &graph.Tensor{Name: "in", DType: graph.Float32}
	out := &graph.Tensor{Name: "out", DType: graph.Float32}
	c := u8Case{name: fmt.Sprintf("%s_hybrid_%d_s%d", kind, i, scales)}
	randW := func(shape []int, n, axis int) *graph.Tensor {
		v := make([]int8, graph.NumElements(shape))
		for j := range v {
			v[j] = int8(r.Intn(255) - 127)
		}
		sc := []float32{float32(0.002 + 0.02*r.Float64())}
		for len(sc) < n && scales > 0 {
			if scales == 1 {
				sc = append(sc, float32(0.002+0.02*r.Float64()))
			} else {
				sc = append(sc, sc[0])
			}
		}
		t := constI8("w", graph.Int8, shape, v, sc)
		t.Quant.Axis = axis
		return t
	}
	randB := func(n int) *graph.Tensor {
		v := make([]float32, n)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return constF32("b", []int{n}, v)
	}
	switch kind {
	case graph.OpConv2D, graph.OpDepthwiseConv2D:
		pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[r.Intn(2)]
		f, s := 1+r.Intn(3), 1+r.Intn(2)
		dil := 1
		if i%3 == 2 {
			dil = 2
		}
		h, w := 1+(f-1)*dil+r.Intn(8), 1+(f-1)*dil+r.Intn(8)
		cin, cout := 1+r.Intn(7), 1+r.Intn(11)
		batch := 1 + r.Intn(2)
		if kind == graph.OpDepthwiseConv2D {
			cout = cin * (1 + r.Intn(3))
		}
		in.Shape = []int{batch, h, w, cin}
		out.Shape = []int{batch, graph.ConvOutputSize(pad, h, f, s, dil), graph.ConvOutputSize(pad, w, f, s, dil), cout}
		if kind == graph.OpConv2D {
			c.op = &graph.Op{Kind: kind, Options: &graph.Conv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: dil, DilationH: dil, Activation: act}}
			c.ins = []*graph.Tensor{in, randW([]int{cout, f, f, cin}, cout, 0), randB(cout)}
		} else {
			c.op = &graph.Op{Kind: kind, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: dil, DilationH: dil,
				DepthMultiplier: cout / cin, Activation: act}}
			c.ins = []*graph.Tensor{in, randW([]int{1, f, f, cout}, cout, 3), randB(cout)}
		}
	default:
		rows, depth, n := 1+r.Intn(3), 1+r.Intn(50), 1+r.Intn(20)
		in.Shape, out.Shape = []int{rows, depth}, []int{rows, n}
		c.op = &graph.Op{Kind: kind, Options: &graph.FullyConnectedOptions{Activation: act, AsymmetricQuantizeInputs: i%2 == 1}}
		c.ins = []*graph.Tensor{in, randW([]int{n, depth}, n, 0), randB(n)}
	}
	c.out = out
	return c
}

// hybridRef is the test's own plain computation of a hybrid case: quantize
// each image (conv, depthwise) or row (fully connected), integer dot
// products over the taps inside the image, then to float. One weight scale:
// float32(dot)·(s_x·s_w) + bias; per-channel CONV_2D: float32(dot)·(s_w[c]·s_x)
// + bias; DEPTHWISE_CONV_2D: (float32(dot)·s_x)·s_w[c] + bias. Then clamp.
func hybridRef(c u8Case, x []float32) []float32 {
	w, b := c.ins[1].Int8s(), c.ins[2].Float32s()
	sc := c.ins[1].Quant.Scale
	perCh := false
	for _, v := range sc {
		perCh = perCh || v != sc[0]
	}
	y := make([]float32, c.out.NumElements())
	finish := func(acc int32, sx float32, j int, act graph.Activation) float32 {
		lo, hi, _ := ActivationRangeFloat(act)
		var v float32
		switch {
		case c.op.Kind == graph.OpDepthwiseConv2D:
			v = float32(float32(float32(acc)*sx)*sc[j]) + b[j]
		case perCh:
			v = float32(float32(acc)*float32(sc[j]*sx)) + b[j]
		default:
			v = float32(float32(acc)*float32(sx*sc[0])) + b[j]
		}
		return min(max(v, lo), hi)
	}
	if c.op.Kind == graph.OpFullyConnected {
		o := c.op.Options.(*graph.FullyConnectedOptions)
		depth, n := c.ins[1].Shape[1], c.ins[1].Shape[0]
		q := make([]int8, depth)
		for i := 0; i < len(x)/depth; i++ {
			var sx float32
			var zp int32
			if o.AsymmetricQuantizeInputs {
				sx, zp = hybridAsymmetric(q, x[i*depth:(i+1)*depth])
			} else {
				sx = hybridSymmetric(q, x[i*depth:(i+1)*depth])
			}
			for j := 0; j < n; j++ {
				var acc int32
				for p, v := range q {
					acc += int32(w[j*depth+p]) * (int32(v) - zp)
				}
				y[i*n+j] = finish(acc, sx, j, o.Activation)
			}
		}
		return y
	}
	var act graph.Activation
	var pad graph.Padding
	var sH, sW, dil int
	dw := c.op.Kind == graph.OpDepthwiseConv2D
	if dw {
		o := c.op.Options.(*graph.DepthwiseConv2DOptions)
		act, pad, sH, sW, dil = o.Activation, o.Padding, o.StrideH, o.StrideW, o.DilationH
	} else {
		o := c.op.Options.(*graph.Conv2DOptions)
		act, pad, sH, sW, dil = o.Activation, o.Padding, o.StrideH, o.StrideW, o.DilationH
	}
	sh, osh := c.ins[0].Shape, c.out.Shape
	H, W, C := sh[1], sh[2], sh[3]
	OH, OW, OC := osh[1], osh[2], osh[3]
	F := c.ins[1].Shape[1]
	padT := graph.ConvPadding(pad, H, F, sH, dil, OH)
	padL := graph.ConvPadding(pad, W, F, sW, dil, OW)
	q := make([]int8, H*W*C)
	for bi := 0; bi < sh[0]; bi++ {
		var sx float32
		var zp int32
		if dw || perCh {
			sx, zp = hybridAsymmetric(q, x[bi*H*W*C:(bi+1)*H*W*C])
		} else {
			sx = hybridSymmetric(q, x[bi*H*W*C:(bi+1)*H*W*C])
		}
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				for oc := 0; oc < OC; oc++ {
					var acc int32
					for ky := 0; ky < F; ky++ {
						for kx := 0; kx < F; kx++ {
							iy, ix := oy*sH-padT+ky*dil, ox*sW-padL+kx*dil
							if iy < 0 || iy >= H || ix < 0 || ix >= W {
								continue
							}
							if dw {
								ic := oc / (OC / C)
								acc += int32(w[(ky*F+kx)*OC+oc]) * (int32(q[(iy*W+ix)*C+ic]) - zp)
								continue
							}
							for ic := 0; ic < C; ic++ {
								acc += int32(w[((oc*F+ky)*F+kx)*C+ic]) * (int32(q[(iy*W+ix)*C+ic]) - zp)
							}
						}
					}
					y[((bi*OH+oy)*OW+ox)*OC+oc] = finish(acc, sx, oc, act)
				}
			}
		}
	}
	return y
}

func randHybridInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	scale := float32(math.Ldexp(1, r.Intn(8)-4))
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	if r.Intn(4) == 0 {
		for i := range x {
			x[i] = max(x[i], 0) // post-ReLU: the asymmetric zero point at the edge
		}
	}
	return x
}

// TestHybridMatchesRef checks the hybrid kernels against the plain
// computation (hybridRef) on random shapes and inputs.
func TestHybridMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(71))
	for i := 0; i < 90; i++ {
		kind := []graph.OpKind{graph.OpConv2D, graph.OpFullyConnected, graph.OpDepthwiseConv2D}[i%3]
		sc := i / 3 % 3
		if kind != graph.OpDepthwiseConv2D && sc == 2 || kind == graph.OpFullyConnected {
			sc = 0 // refused: see TestHybridRefusals
		}
		if kind == graph.OpDepthwiseConv2D && sc == 0 {
			sc = 1
		}
		c := hybridCase(r, kind, i/3, sc)
		k, err := heavyPrepareWith(kind, fixedpoint.RuntimeRounding)(c.op, c.ins, []*graph.Tensor{c.out})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := randHybridInput(r, c.ins[0].NumElements())
		y := refBuffer(graph.Float32, c.out.Shape, nil)
		if err := k.Run([]*Buffer{{DType: graph.Float32, Shape: c.ins[0].Shape, F32: x}}, []*Buffer{y}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for j, v := range hybridRef(c, x) {
			if math.Float32bits(v) != math.Float32bits(y.F32[j]) {
				t.Fatalf("%s: output %d = %g, reference %g", c.name, j, y.F32[j], v)
			}
		}
	}
}

// TestHybridMatchesTFLite runs random hybrid CONV_2D (per-tensor weights
// with symmetric per-image input quantization, per-channel weights with
// asymmetric), DEPTHWISE_CONV_2D (per-channel, asymmetric, dilated too) and
// FULLY_CONNECTED (symmetric and asymmetric_quantize_inputs) models in the
// real TFLite interpreter and in qbench: outputs must be bit-identical.
func TestHybridMatchesTFLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TFLite once per case; skipped with -short")
	}
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(72))
	dir := t.TempDir()
	exact, total := 0, 0
	for i := 0; i < 20; i++ {
		// CONV_2D with one scale and per channel, FULLY_CONNECTED
		// (symmetric and asymmetric inputs), DEPTHWISE_CONV_2D with
		// differing and equal per-channel scales.
		kind := []graph.OpKind{graph.OpConv2D, graph.OpConv2D, graph.OpFullyConnected, graph.OpDepthwiseConv2D, graph.OpDepthwiseConv2D}[i%5]
		sc := []int{0, 1, 0, 1, 2}[i%5]
		c := hybridCase(r, kind, i/5, sc)
		g := oneOpGraph(kind, c.op.Options, c.ins[0], c.ins[1:], c.out)
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		const samples = 3
		n := c.ins[0].NumElements()
		x := randHybridInput(r, samples*n)
		raw := make([]byte, 0, 4*len(x))
		for _, v := range x {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		want, err := or.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: oracle: %v", c.name, err)
		}
		k, err := heavyPrepareWith(kind, fixedpoint.RuntimeRounding)(c.op, c.ins, []*graph.Tensor{c.out})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := c.out.NumElements()
		if len(want) != 4*samples*m {
			t.Fatalf("%s: TFLite gave %d bytes, want %d", c.name, len(want), 4*samples*m)
		}
		var got []float32
		for s := 0; s < samples; s++ {
			y := refBuffer(graph.Float32, c.out.Shape, nil)
			if err := k.Run([]*Buffer{{DType: graph.Float32, Shape: c.ins[0].Shape, F32: x[s*n : (s+1)*n]}}, []*Buffer{y}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got = append(got, y.F32...)
		}
		for j, v := range got {
			w := math.Float32frombits(binary.LittleEndian.Uint32(want[4*j:]))
			if math.Float32bits(v) == math.Float32bits(w) {
				exact++
			} else {
				t.Errorf("%s: output %d = %g, TFLite %g", c.name, j, v, w)
				break
			}
			total++
		}
	}
	t.Logf("%d of %d hybrid outputs bit-identical with TFLite", exact, total)
}

// TestHybridRefusals: what the TFLite runtime refuses, or computes as the
// bias alone, qbench refuses with an error naming the op and the weights.
func TestHybridRefusals(t *testing.T) {
	r := rand.New(rand.NewSource(73))
	for _, tc := range []struct {
		kind   graph.OpKind
		scales int
		want   string
	}{
		{graph.OpConv2D, 2, "equal per-channel scales"},
		{graph.OpFullyConnected, 1, "per-channel scales"},
		{graph.OpFullyConnected, 2, "per-channel scales"},
		{graph.OpDepthwiseConv2D, 0, "want one per output channel"},
	} {
		for i := 0; i < 20; i++ {
			c := hybridCase(r, tc.kind, i, tc.scales)
			if len(c.ins[1].Quant.Scale) == 1 && tc.scales > 0 || c.out.Shape[len(c.out.Shape)-1] == 1 {
				continue // one channel: one scale is per channel
			}
			_, err := heavyPrepareWith(tc.kind, fixedpoint.RuntimeRounding)(c.op, c.ins, []*graph.Tensor{c.out})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"w"`) {
				t.Errorf("%s: error %v, want one saying %q and naming the weights", c.name, err, tc.want)
			}
		}
	}
}
