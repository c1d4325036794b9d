package quant

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// runRaw runs g on k samples given as raw input bytes (the input's dtype)
// and returns the raw output bytes, like the oracle does. It uses the TFLite
// runtime's single-rounding arithmetic, which is what the oracle computes.
func runRaw(t *testing.T, g *graph.Graph, raw []byte, k int) []byte {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		t.Fatal(err)
	}
	ex := p.NewExecutor()
	in, out := ex.Input(0), ex.Output(0)
	per := len(raw) / k
	var res bytes.Buffer
	for s := 0; s < k; s++ {
		chunk := raw[s*per : (s+1)*per]
		switch in.DType {
		case graph.Float32:
			for i := range in.F32 {
				in.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(chunk[4*i:]))
			}
		case graph.Int8:
			for i := range in.I8 {
				in.I8[i] = int8(chunk[i])
			}
		case graph.UInt8:
			copy(in.U8, chunk)
		case graph.Int16:
			for i := range in.I16 {
				in.I16[i] = int16(binary.LittleEndian.Uint16(chunk[2*i:]))
			}
		default:
			t.Fatalf("input dtype %s", in.DType)
		}
		if err := ex.Run(); err != nil {
			t.Fatal(err)
		}
		switch out.DType {
		case graph.Float32:
			res.Write(graph.EncodeFloat32s(out.F32))
		case graph.Int8:
			res.Write(graph.EncodeInt8s(out.I8))
		case graph.UInt8:
			res.Write(out.U8)
		case graph.Int16:
			res.Write(graph.EncodeInt16s(out.I16))
		}
	}
	return res.Bytes()
}

// rawInputs encodes float samples in the dtype of g's input, quantizing
// with its parameters (round half away from zero, clamp) for integer inputs.
func rawInputs(g *graph.Graph, xs [][]float32) []byte {
	t := g.Tensors[g.Inputs[0]]
	var b bytes.Buffer
	for _, x := range xs {
		switch t.DType {
		case graph.Float32:
			b.Write(graph.EncodeFloat32s(x))
		case graph.Int16:
			s := float64(t.Quant.Scale[0])
			q := make([]int16, len(x))
			for i, v := range x {
				q[i] = int16(quantizeValue(float64(v), s, 0, -32768, 32767))
			}
			b.Write(graph.EncodeInt16s(q))
		default:
			s, zp := float64(t.Quant.Scale[0]), t.Quant.ZeroPoint[0]
			lo, hi := -128, 127
			if t.DType == graph.UInt8 {
				lo, hi = 0, 255
			}
			for _, v := range x {
				b.WriteByte(byte(quantizeValue(float64(v), s, zp, lo, hi)))
			}
		}
	}
	return b.Bytes()
}

// TestOracleQuantizedModels is the acceptance check: quantized files written
// by tflite.WriteFile load in the real TFLite interpreter and, on random
// inputs, their integer outputs are bit-identical to qbench's interpreter;
// the float model agrees within 1e-5.
func TestOracleQuantizedModels(t *testing.T) {
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	// Each model gets a few option sets; together they cover every
	// io type, both weight granularities, bias correction, the calibration
	// methods and 16x8 (bit-identical too), while keeping oracle runs
	// (~0.5 s each) few.
	for _, tc := range []struct {
		name string
		g    *graph.Graph
		opts []Options
	}{
		{"elementwise", elementwiseNet(), []Options{{IO: graph.UInt8, Method: MSE}, {Mode: Mode16x8, IO: graph.Int16}}},
		{"tinycnn", tinyCNN(3), []Options{{IO: graph.Int8, PerTensor: true, BiasCorrection: true, Method: KL}, {Mode: Mode16x8, IO: graph.Int16}}},
		{"seedlike", seedLike(4), []Options{{IO: graph.Int8}, {IO: graph.UInt8, Method: Percentile}, {IO: graph.Float32}}},
		{"newops", newOpsNet(), []Options{{IO: graph.Int8}, {IO: graph.UInt8}, {IO: graph.Float32}}},
		// The shape arithmetic is folded in TestQuantizeFoldsShapeArithmetic:
		// computed, TFLite's float output would be dynamic, which the
		// installed oracle script reads stale. No 16x8: the oracle's TFLite
		// has no int16 SPACE_TO_BATCH_ND.
		{"layout", layoutNet(6, false), []Options{{IO: graph.Int8}, {IO: graph.UInt8, Method: MSE}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			calib := randomSamples(g, 64, 11)
			eval := randomSamples(g, 16, 12)
			// Float model within 1e-5.
			fpath := filepath.Join(dir, tc.name+"_float.tflite")
			if err := tflite.WriteFile(fpath, g); err != nil {
				t.Fatal(err)
			}
			raw := rawInputs(g, eval)
			if _, err := interp.Compile(g, interp.Options{}); errors.Is(err, kernels.ErrUnsupported) {
				t.Skipf("interpreter lacks a float kernel yet: %v", err)
			}
			want := runRaw(t, g, raw, len(eval))
			got, err := r.Run(fpath, raw)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiffF32(want, got); d > 1e-5 {
				t.Errorf("float model: max |oracle − qbench| = %g", d)
			}
			for _, opts := range tc.opts {
				q, _, err := Quantize(context.Background(), g, SliceSamples(calib), opts)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, tc.name+"_q.tflite")
				if err := tflite.WriteFile(path, q); err != nil {
					t.Fatal(err)
				}
				// Read back what was written, so the check covers the file.
				back, err := tflite.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				raw := rawInputs(back, eval)
				want := runRaw(t, back, raw, len(eval))
				got, err := r.Run(path, raw)
				if err != nil {
					t.Fatalf("%+v: oracle: %v", opts, err)
				}
				if opts.IO == graph.Float32 {
					// Float boundaries: DEQUANTIZE may round differently in
					// the last bit; the integer core is what must match.
					if d := maxAbsDiffF32(want, got); d > 1e-6 {
						t.Errorf("%+v: float io: max diff %g", opts, d)
					}
					continue
				}
				if !bytes.Equal(want, got) {
					t.Errorf("%+v: integer outputs differ from the oracle\nqbench %v\noracle %v", opts, want[:min(16, len(want))], got[:min(16, len(got))])
				}
			}
		})
	}
}

func maxAbsDiffF32(a, b []byte) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := 0; i+4 <= len(a); i += 4 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(a[i:]))
		y := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
		d = math.Max(d, math.Abs(float64(x-y)))
	}
	return d
}

func maxAbsDiffI16(a, b []byte) int {
	if len(a) != len(b) {
		return math.MaxInt
	}
	d := 0
	for i := 0; i+2 <= len(a); i += 2 {
		x := int(int16(binary.LittleEndian.Uint16(a[i:])))
		y := int(int16(binary.LittleEndian.Uint16(b[i:])))
		d = max(d, x-y, y-x)
	}
	return d
}
