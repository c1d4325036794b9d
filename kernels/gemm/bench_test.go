package gemm

import (
	"fmt"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// benchShapes are seed-cnn's layers as GEMMs (M = output pixels,
// N = output channels, K = kernel volume), its dense layer, and 512³.
var benchShapes = [][3]int{
	{6400, 16, 27}, {1600, 32, 144}, {400, 64, 288}, {100, 128, 576},
	{1, 256, 4608}, {64, 256, 4608}, {512, 512, 512},
}

func reportOps(b *testing.B, m, n, k int, unit string) {
	ops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(ops/b.Elapsed().Seconds()/1e9, unit)
}

// BenchmarkSgemm measures C = A·Bᵀ with B as weight rows (the conv/dense
// layout), packing B on every call.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randF32(r, m*k), randF32(r, n*k), make([]float32, m*n)
			for b.Loop() {
				Sgemm(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
			}
			reportOps(b, m, n, k, "GFLOP/s")
		})
	}
}

// BenchmarkPackedF32 is BenchmarkSgemm with weights packed once.
func BenchmarkPackedF32(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randF32(r, m*k), randF32(r, n*k), make([]float32, m*n)
			p := PackF32(w, n, k, k)
			for b.Loop() {
				p.Mul(m, a, k, c, n)
			}
			reportOps(b, m, n, k, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmRef is the plain-Go reference, for the speed-up ratio.
func BenchmarkSgemmRef(b *testing.B) {
	for _, s := range benchShapes[:4] {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randF32(r, m*k), randF32(r, n*k), make([]float32, m*n)
			for b.Loop() {
				SgemmRef(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
			}
			reportOps(b, m, n, k, "GFLOP/s")
		})
	}
}

// BenchmarkPackedS8 measures the int8 product with weights packed once.
func BenchmarkPackedS8(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randI8(r, m*k), randI8(r, n*k), make([]int32, m*n)
			p := PackS8(w, n, k, k)
			for b.Loop() {
				p.Mul(m, a, k, 3, c, n)
			}
			reportOps(b, m, n, k, "GOP/s")
		})
	}
}

// BenchmarkGemmS8 includes packing the weights on every call.
func BenchmarkGemmS8(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randI8(r, m*k), randI8(r, n*k), make([]int32, m*n)
			for b.Loop() {
				GemmS8(m, n, k, a, k, 3, w, k, c, n)
			}
			reportOps(b, m, n, k, "GOP/s")
		})
	}
}

// BenchmarkGemmS8Ref is the plain-Go int8 reference.
func BenchmarkGemmS8Ref(b *testing.B) {
	for _, s := range benchShapes[:4] {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randI8(r, m*k), randI8(r, n*k), make([]int32, m*n)
			for b.Loop() {
				GemmS8Ref(m, n, k, a, k, 3, w, k, c, n)
			}
			reportOps(b, m, n, k, "GOP/s")
		})
	}
}

// BenchmarkKernelPeak runs each float32 and int8 micro-kernel alone on
// L1-resident panels: the practical one-core ceiling the driver chases.
func BenchmarkKernelPeak(b *testing.B) {
	const k = 128
	for _, set := range f32Sets() {
		for _, kern := range set.kernels {
			b.Run("f32/"+kern.name, func(b *testing.B) {
				a, w := make([]float32, k*kern.mr), make([]float32, k*kern.nr)
				c := make([]float32, kern.mr*kern.nr)
				for b.Loop() {
					kern.fn(k, &a[0], &w[0], &c[0], kern.nr, 1)
				}
				reportOps(b, kern.mr, kern.nr, k, "GFLOP/s")
			})
		}
	}
	for _, set := range s8Sets() {
		for _, kern := range set.kernels {
			b.Run("s8/"+kern.name, func(b *testing.B) {
				g := set.format.group()
				a, w := make([]int16, k*kern.mr), make([]int16, k*kern.nr)
				c, init := make([]int32, kern.mr*kern.nr), make([]int32, kern.nr)
				for b.Loop() {
					kern.fn(k/g, unsafe.Pointer(&a[0]), unsafe.Pointer(&w[0]), &c[0], kern.nr, &init[0])
				}
				reportOps(b, kern.mr, kern.nr, k, "GOP/s")
			})
		}
	}
}

// BenchmarkRequantRow measures the int8 output stage per element.
func BenchmarkRequantRow(b *testing.B) {
	const n = 64
	mult, shift := make([]int32, n), make([]int, n)
	for j := range n {
		mult[j], shift[j] = 1<<30+int32(j)*12345, -8
	}
	rq, err := NewRequant(fixedpoint.DoubleRounding, make([]int32, n), mult, shift, -128, -128, 127)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	acc := make([]int32, n)
	for i := range acc {
		acc[i] = int32(r.IntN(1 << 20))
	}
	dst := make([]int8, n)
	for b.Loop() {
		rq.Row(dst, acc)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/element")
}

// seed-cnn's convolutions: input H=W, C in, Cout out (3x3 SAME, stride 1).
var convShapes = [][3]int{{80, 3, 16}, {40, 16, 32}, {20, 32, 64}, {10, 64, 128}}

// BenchmarkConvIm2col is a 3x3 SAME conv as im2col + PackedF32.MulBiasClamp.
func BenchmarkConvIm2col(b *testing.B) {
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			in, w, bias := randF32(r, hw*hw*cin), randF32(r, cout*9*cin), randF32(r, cout)
			p := PackF32(w, cout, 9*cin, 9*cin)
			col := make([]float32, hw*hw*9*cin)
			out := make([]float32, hw*hw*cout)
			for b.Loop() {
				for y := 0; y < hw; y++ {
					for x := 0; x < hw; x++ {
						d := col[(y*hw+x)*9*cin:]
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								yy, xx := y+ky-1, x+kx-1
								seg := d[(ky*3+kx)*cin : (ky*3+kx+1)*cin]
								if yy < 0 || yy >= hw || xx < 0 || xx >= hw {
									clear(seg)
									continue
								}
								copy(seg, in[(yy*hw+xx)*cin:(yy*hw+xx+1)*cin])
							}
						}
					}
				}
				p.MulBiasClamp(1, hw*hw, col, 9*cin, bias, 0, 1e30, out, cout)
			}
			reportOps(b, hw*hw, cout, 9*cin, "GFLOP/s")
		})
	}
}

// BenchmarkConvSegmented is the same conv without im2col: pad the input
// once and run MulSegmented per output row.
func BenchmarkConvSegmented(b *testing.B) {
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			in, w, bias := randF32(r, hw*hw*cin), randF32(r, cout*9*cin), randF32(r, cout)
			p := PackF32Segmented(w, cout, 9*cin, 9*cin, 3*cin)
			wp := hw + 2
			pad := make([]float32, (hw+2)*wp*cin)
			out := make([]float32, hw*hw*cout)
			wide := make([]float32, hw*wp*cout)
			for b.Loop() {
				for y := 0; y < hw; y++ {
					copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin])
				}
				// All output rows in one call: pixel (y, x) is row y·Wp + x;
				// the two rows per image row with x ≥ W are discarded.
				p.MulSegmented(1, hw*wp-2, pad, cin, wp*cin, bias, 0, 1e30, wide, cout)
				for y := 0; y < hw; y++ {
					copy(out[y*hw*cout:(y+1)*hw*cout], wide[y*wp*cout:(y*wp+hw)*cout])
				}
			}
			reportOps(b, hw*hw, cout, 9*cin, "GFLOP/s")
		})
	}
}

func benchRequant(b *testing.B, n int) *Requant {
	mult, shift := make([]int32, n), make([]int, n)
	for j := range n {
		mult[j], shift[j] = 1<<30+int32(j)*4567, -9
	}
	rq, err := NewRequant(fixedpoint.SingleRounding, make([]int32, n), mult, shift, -128, -128, 127)
	if err != nil {
		b.Fatal(err)
	}
	return rq
}

// BenchmarkConvS8Im2col is an int8 3x3 SAME conv as im2col + MulRequant.
func BenchmarkConvS8Im2col(b *testing.B) {
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			in, w := randI8(r, hw*hw*cin), randI8(r, cout*9*cin)
			p, rq := PackS8(w, cout, 9*cin, 9*cin), benchRequant(b, cout)
			col := make([]int8, hw*hw*9*cin)
			out := make([]int8, hw*hw*cout)
			for b.Loop() {
				for y := 0; y < hw; y++ {
					for x := 0; x < hw; x++ {
						d := col[(y*hw+x)*9*cin:]
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								yy, xx := y+ky-1, x+kx-1
								seg := d[(ky*3+kx)*cin : (ky*3+kx+1)*cin]
								if yy < 0 || yy >= hw || xx < 0 || xx >= hw {
									clear(seg)
									continue
								}
								copy(seg, in[(yy*hw+xx)*cin:(yy*hw+xx+1)*cin])
							}
						}
					}
				}
				p.MulRequant(hw*hw, col, 9*cin, 0, rq, out, cout)
			}
			reportOps(b, hw*hw, cout, 9*cin, "GOP/s")
		})
	}
}

// BenchmarkConvS8Segmented is the int8 conv without im2col.
func BenchmarkConvS8Segmented(b *testing.B) {
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			in, w := randI8(r, hw*hw*cin), randI8(r, cout*9*cin)
			p, rq := PackS8Segmented(w, cout, 9*cin, 9*cin, 3*cin), benchRequant(b, cout)
			wp := hw + 2
			pad := make([]int8, (hw+2)*wp*cin)
			out := make([]int8, hw*hw*cout)
			wide := make([]int8, hw*wp*cout)
			for b.Loop() {
				for y := 0; y < hw; y++ {
					copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin])
				}
				p.MulRequantSegmented(1, (hw-1)*wp+hw, pad, cin, wp*cin, 0, rq, wide, cout)
				for y := 0; y < hw; y++ {
					copy(out[y*hw*cout:(y+1)*hw*cout], wide[y*wp*cout:(y*wp+hw)*cout])
				}
			}
			reportOps(b, hw*hw, cout, 9*cin, "GOP/s")
		})
	}
}

// BenchmarkPackedI16Wino2 times the products of a 2-D Winograd
// F(4×4,3×3) layer — 36 MulSegmented calls of M = tiles, K = inC,
// N = outC — on seed-cnn's 3×3 layer shapes, for every segmented int16
// family this CPU has, the fused one (VPDPWSSD) too (thread CPU per
// layer, GOP/s of the products).
func BenchmarkPackedI16Wino2(b *testing.B) {
	sets := []*s8Set{}
	if f := i16FusedSet(); f != nil {
		sets = append(sets, f)
	}
	for _, s := range s8Sets() {
		if s.format == fmtI16Pair && segI16Kernel(s) != nil {
			sets = append(sets, s)
		}
	}
	for _, s := range [][3]int{{40, 16, 32}, {20, 32, 64}, {10, 64, 128}} {
		hw, cin, cout := s[0], s[1], s[2]
		t := (hw + 3) / 4
		m := t * t
		for _, set := range sets {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", hw, cin, cout, set.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				var ps [36]*PackedI16
				a := make([]int16, 36*m*cin)
				for i := range a {
					a[i] = int16(r.IntN(2561) - 1280)
				}
				w := make([]int16, cout*cin)
				for x := range ps {
					for i := range w {
						w[i] = int16(r.IntN(2001) - 1000)
					}
					ps[x] = packI16With(set, w, cout, cin, cin, cin)
				}
				c := make([]int32, 36*m*cout)
				loopCPU(b, float64(2*36*m*cin*cout), func() {
					for x := range ps {
						ps[x].MulSegmented(m, a[x*m*cin:], cin, cin, c[x*m*cout:], cout)
					}
				})
			})
		}
	}
}

// BenchmarkSegI16Heights runs each segmented int16 kernel of every row
// count alone on one row tile of K = 64 (one segment) and 8 slivers
// (N = 128): seed-cnn's 10×10×64→128 Winograd products, whose 9 rows
// split into two row tiles (thread CPU, GOP/s).
func BenchmarkSegI16Heights(b *testing.B) {
	sets := []*s8Set{}
	if f := i16FusedSet(); f != nil {
		sets = append(sets, f)
	}
	for _, s := range s8Sets() {
		if s.format == fmtI16Pair && segI16Kernel(s) != nil {
			sets = append(sets, s)
		}
	}
	const k, n = 64, 128
	for _, set := range sets {
		kern := segI16Kernel(set)
		for h := 1; h <= kern.mr; h++ {
			b.Run(fmt.Sprintf("%s/h%d", set.name, h), func(b *testing.B) {
				a, w := make([]int16, h*k), make([]int16, n*k)
				for i := range a {
					a[i] = int16(i%2001 - 1000)
				}
				p := packI16Kern(set, kern, w, n, k, k, k)
				c := make([]int32, h*n)
				loopCPU(b, float64(2*h*n*k), func() {
					kern.segI16[h-1](1, k/2, &a[0], 2*k, 0, &p.i16[0], &c[0], n, &p.zeros[0], n/kern.nr, 1)
				})
			})
		}
	}
}
