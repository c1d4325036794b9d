package kernels

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

// halfReference computes a binary16 value arithmetically, from its fields,
// in float64 (exact for every binary16 value) rather than by moving bits.
// NaNs are built with math.Float32frombits from the sign and the payload
// placed at the top of the float32 mantissa, which is what the conversion
// promises.
func halfReference(h uint16) float32 {
	neg := h>>15 != 0
	exp := int(h>>10) & 0x1f
	mant := int(h & 0x3ff)
	var v float64
	switch {
	case exp == 0x1f && mant == 0:
		v = math.Inf(1)
	case exp == 0x1f:
		bits := uint32(0x7f800000) | uint32(mant)<<13
		if neg {
			bits |= 1 << 31
		}
		return math.Float32frombits(bits)
	case exp == 0:
		v = math.Ldexp(float64(mant), -24)
	default:
		v = math.Ldexp(float64(1024+mant), exp-25)
	}
	if neg {
		v = math.Copysign(v, -1)
	}
	return float32(v)
}

func TestFloat16ToFloat32AllBitPatterns(t *testing.T) {
	bad := 0
	var nan, sub, inf int
	for i := range 1 << 16 {
		h := uint16(i)
		got, want := Float16ToFloat32(h), halfReference(h)
		if math.Float32bits(got) != math.Float32bits(want) {
			if bad < 10 {
				t.Errorf("0x%04x: got %g (0x%08x), want %g (0x%08x)", h, got, math.Float32bits(got), want, math.Float32bits(want))
			}
			bad++
		}
		switch {
		case math.IsNaN(float64(got)):
			nan++
		case math.IsInf(float64(got), 0):
			inf++
		case h&0x7c00 == 0 && h&0x3ff != 0:
			sub++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of 65536 bit patterns differ", bad)
	}
	// 2·1023 NaNs, 2 infinities, 2·1023 subnormals.
	if nan != 2046 || inf != 2 || sub != 2046 {
		t.Fatalf("classes: %d NaN, %d inf, %d subnormal; want 2046, 2, 2046", nan, inf, sub)
	}
	// Spot values anyone can check by hand.
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.9604645e-08, 0x0400: 6.1035156e-05, 0x3555: 0.33325195} {
		if got := Float16ToFloat32(h); got != want {
			t.Errorf("0x%04x: got %g, want %g", h, got, want)
		}
	}
	if b := math.Float32bits(Float16ToFloat32(0x8000)); b != 0x80000000 {
		t.Errorf("-0: got bits 0x%08x", b)
	}
}

func TestDequantizeFloat16(t *testing.T) {
	in := &graph.Tensor{Name: "w16", DType: graph.Float16, Shape: []int{2, 3}}
	out := &graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2, 3}}
	op := &graph.Op{Kind: graph.OpDequantize}
	k, err := Prepare(op, []*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	x := &Buffer{DType: graph.Float16, Shape: in.Shape, I16: []int16{0x3c00, -0x4000, 0x0001, 0x7c00, 0x0000, 0x3555}}
	y := &Buffer{DType: graph.Float32, Shape: out.Shape, F32: make([]float32, 6)}
	if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, 5.9604645e-08, float32(math.Inf(1)), 0, 0.33325195}
	for i := range want {
		if y.F32[i] != want[i] {
			t.Errorf("element %d: got %g, want %g", i, y.F32[i], want[i])
		}
	}
}

func TestFloat16RefusedOutsideDequantize(t *testing.T) {
	x := &graph.Tensor{Name: "x16", DType: graph.Float16, Shape: []int{4}}
	y := &graph.Tensor{Name: "y", DType: graph.Float16, Shape: []int{4}}
	_, err := Prepare(&graph.Op{Kind: graph.OpRelu}, []*graph.Tensor{x}, []*graph.Tensor{y})
	if err == nil || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("RELU on float16: got %v, want ErrUnsupported", err)
	}
	for _, s := range []string{"RELU", "x16", "float16"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	_, err = Prepare(&graph.Op{Kind: graph.OpDequantize}, []*graph.Tensor{x}, []*graph.Tensor{y})
	if err == nil {
		t.Fatal("DEQUANTIZE to float16 accepted")
	}
}
