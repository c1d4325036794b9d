package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// refRequant is the per-element reference built from kernels/fixedpoint.
// RuntimeRounding stands for XNNPACK's float32 requantization with the
// scale mult·2^(shift−31) (testScale), as newTestRequant builds it.
func refRequant(mode fixedpoint.Rounding, acc, bias, mult int32, shift int, zp, lo, hi int32) int8 {
	if mode == fixedpoint.RuntimeRounding {
		return int8(fixedpoint.FP32Requantize(acc+bias, testScale(mult, shift), zp, lo, hi))
	}
	v := mode.MultiplyByQuantizedMultiplier(acc+bias, mult, shift) + zp
	return int8(min(max(v, lo), hi))
}

// testScale is the float32 value of a Q31 multiplier and shift.
func testScale(mult int32, shift int) float32 {
	return float32(math.Ldexp(float64(mult), shift-31))
}

// newTestRequant is NewRequant, or for RuntimeRounding NewRequantFP32
// with the scales testScale gives, so every test covers all three
// arithmetics with one set of parameters.
func newTestRequant(mode fixedpoint.Rounding, bias, mult []int32, shift []int, zp, lo, hi int32) (*Requant, error) {
	if mode != fixedpoint.RuntimeRounding {
		return NewRequant(mode, bias, mult, shift, zp, lo, hi)
	}
	scale := make([]float32, len(mult))
	for j := range scale {
		scale[j] = testScale(mult[j], shift[j])
	}
	return NewRequantFP32(bias, scale, zp, lo, hi)
}

var modes = []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}

func TestRequantMatchesFixedpoint(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, mode := range modes {
		testRequantMode(t, r, mode)
	}
}

func testRequantMode(t *testing.T, r *rand.Rand, mode fixedpoint.Rounding) {
	for _, n := range []int{1, 15, 16, 17, 33, 64, 130} {
		bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
		for j := range n {
			bias[j] = int32(r.IntN(1<<20)) - 1<<19
			switch j % 5 {
			case 0:
				mult[j] = 0
			case 1:
				mult[j] = math.MaxInt32
			default:
				mult[j] = 1<<30 + int32(r.IntN(1<<30))
			}
			shift[j] = r.IntN(62) - 31
			if j%7 == 0 {
				shift[j] = -31
			}
			if j%11 == 0 {
				shift[j] = 30
			}
		}
		zp, lo, hi := int32(r.IntN(256)-128), int32(-128), int32(127)
		if n == 33 {
			lo, hi = -5, 90 // a fused activation's narrower range
		}
		rq, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		acc := make([]int32, n)
		dst := make([]int8, n)
		for trial := 0; trial < 200; trial++ {
			for j := range acc {
				switch trial % 4 {
				case 0:
					acc[j] = int32(r.Uint32())
				case 1:
					acc[j] = int32(r.IntN(1<<16)) - 1<<15
				case 2:
					acc[j] = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[r.IntN(5)]
				default:
					acc[j] = int32(r.IntN(1<<24)) - 1<<23
				}
			}
			rq.Row(dst, acc)
			for j := range n {
				want := refRequant(mode, acc[j], bias[j], mult[j], shift[j], zp, lo, hi)
				if dst[j] != want {
					t.Fatalf("%s n=%d ch %d: acc %d bias %d mult %d shift %d: got %d, want %d", mode, n, j, acc[j], bias[j], mult[j], shift[j], dst[j], want)
				}
			}
		}
	}
}

func TestRequantHandComputed(t *testing.T) {
	// mult 2^30 is 0.5; shift −1 halves again: 10 → 2.5 → rounds to 3
	// (ties away from zero), −10 → −3; +zp 1.
	rq, err := NewRequant(fixedpoint.DoubleRounding, nil, []int32{1 << 30, 1 << 30}, []int{-1, -1}, 1, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int8, 2)
	rq.Row(dst, []int32{10, -10})
	if dst[0] != 4 || dst[1] != -2 {
		t.Fatalf("double: got %v, want [4 -2]", dst)
	}
	// Single rounding rounds 2.5 and −2.5 half up once: 3 and −2.
	rq, err = NewRequant(fixedpoint.SingleRounding, nil, []int32{1 << 30, 1 << 30}, []int{-1, -1}, 1, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	rq.Row(dst, []int32{10, -10})
	if dst[0] != 4 || dst[1] != -1 {
		t.Fatalf("single: got %v, want [4 -1]", dst)
	}
}

func TestNewRequantErrors(t *testing.T) {
	if _, err := NewRequant(fixedpoint.DoubleRounding, nil, []int32{1}, []int{0, 0}, 0, -128, 127); err == nil {
		t.Error("length mismatch: want error")
	}
	if _, err := NewRequant(fixedpoint.DoubleRounding, nil, []int32{-1}, []int{0}, 0, -128, 127); err == nil {
		t.Error("negative multiplier: want error")
	}
	if _, err := NewRequant(fixedpoint.DoubleRounding, nil, []int32{1}, []int{31}, 0, -128, 127); err == nil {
		t.Error("shift 31: want error")
	}
	if _, err := NewRequant(fixedpoint.DoubleRounding, nil, []int32{1}, []int{0}, 0, 5, 4); err == nil {
		t.Error("empty range: want error")
	}
}

func TestMulRequant(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, set := range allS8Kernels() {
		for _, c := range [][3]int{{1, 256, 4608}, {70, 16, 27}, {41, 32, 144}, {9, 43, 5}, {300, 64, 288}} {
			m, n, k := c[0], c[1], c[2]
			a, b := randI8(r, m*k), randI8(r, n*k)
			bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
			for j := range n {
				bias[j] = int32(r.IntN(20000)) - 10000
				mult[j] = 1<<30 + int32(r.IntN(1<<30))
				shift[j] = -7 - r.IntN(6)
			}
			mode := modes[(m+n)%3]
			rq, err := newTestRequant(mode, bias, mult, shift, -3, -128, 127)
			if err != nil {
				t.Fatal(err)
			}
			p := packS8With(set, m, b, n, k, k)
			out := make([]int8, m*(n+1))
			off := int32(r.IntN(256) - 127)
			p.MulRequantThreads(1+m%3, m, a, k, off, rq, out, n+1)
			acc := make([]int32, m*n)
			GemmS8Ref(m, n, k, a, k, off, b, k, acc, n)
			for i := range m {
				for j := range n {
					want := refRequant(mode, acc[i*n+j], bias[j], mult[j], shift[j], -3, -128, 127)
					if got := out[i*(n+1)+j]; got != want {
						t.Fatalf("%s m=%d n=%d k=%d: out[%d][%d]=%d, want %d", set.name, m, n, k, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestMulRequantSegmentedConv runs an int8 3x3 stride-1 SAME convolution
// with MulRequantSegmented over an input padded with its zero point, on
// every kernel (and the gather fallback), against im2col + GemmS8Ref.
func TestMulRequantSegmentedConv(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	var sets []*s8Set
	for _, s := range allS8Kernels() {
		sets = append(sets, s)
		k := s.kernels[0]
		if k.seg != nil {
			k.seg = nil
			sets = append(sets, &s8Set{name: s.name + "/gather", format: s.format, kernels: []s8Kernel{k}})
		}
	}
	for _, set := range sets {
		for ci, c := range [][4]int{{9, 7, 3, 16}, {6, 6, 16, 32}, {5, 11, 5, 70}, {4, 3, 64, 8}, {30, 2, 3, 16}} {
			h, w, cin, cout := c[0], c[1], c[2], c[3]
			hp, wp := h+2, w+2
			zp := int8(r.IntN(256) - 128)
			in := randI8(r, h*w*cin)
			pad := make([]int8, hp*wp*cin)
			for i := range pad {
				pad[i] = zp
			}
			for y := 0; y < h; y++ {
				copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+w)*cin], in[y*w*cin:(y+1)*w*cin])
			}
			k := 9 * cin
			wt := randI8(r, cout*k)
			bias, mult, shift := make([]int32, cout), make([]int32, cout), make([]int, cout)
			for j := range cout {
				bias[j] = int32(r.IntN(4000)) - 2000
				mult[j] = 1<<30 + int32(r.IntN(1<<30))
				shift[j] = -6 - r.IntN(4)
			}
			mode := modes[ci%3]
			rq, err := newTestRequant(mode, bias, mult, shift, 5, -128, 127)
			if err != nil {
				t.Fatal(err)
			}
			p := packS8SegWith(set, wt, cout, k, k, 3*cin)
			// Whole image at once: rows y·Wp + x, the last row short.
			m := (h-1)*wp + w
			wide := make([]int8, h*wp*cout)
			p.MulRequantSegmented(1+ci%2, m, pad, cin, wp*cin, int32(-int(zp)), rq, wide, cout)
			// Reference: im2col over the padded input.
			col := make([]int8, h*w*k)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					for ky := 0; ky < 3; ky++ {
						off := ((y+ky)*wp + x) * cin
						copy(col[(y*w+x)*k+ky*3*cin:(y*w+x)*k+(ky+1)*3*cin], pad[off:off+3*cin])
					}
				}
			}
			acc := make([]int32, h*w*cout)
			GemmS8Ref(h*w, cout, k, col, k, int32(-int(zp)), wt, k, acc, cout)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					for o := 0; o < cout; o++ {
						want := refRequant(mode, acc[(y*w+x)*cout+o], bias[o], mult[o], shift[o], 5, -128, 127)
						if got := wide[(y*wp+x)*cout+o]; got != want {
							t.Fatalf("%s %v: out[%d][%d][%d] = %d, want %d", set.name, c, y, x, o, got, want)
						}
					}
				}
			}
		}
	}
}

func TestMulRequantSegmentedEmptyK(t *testing.T) {
	p := PackS8Segmented(nil, 3, 0, 0, 4)
	rq, err := NewRequant(fixedpoint.SingleRounding, []int32{8, -8, 0}, []int32{1 << 30, 1 << 30, 1 << 30}, []int{0, 0, 0}, 1, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int8, 6)
	p.MulRequantSegmented(1, 2, nil, 0, 4, 0, rq, out, 3)
	// bias only: 8·0.5 = 4, −8·0.5 = −4, 0; plus zero point 1.
	for i, want := range []int8{5, -3, 1, 5, -3, 1} {
		if out[i] != want {
			t.Fatalf("out = %v", out)
		}
	}
}
