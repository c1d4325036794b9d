// Command asmgen generates qbench's GEMM micro-kernels (kernels/gemm/
// kernels_amd64.s and its Go declarations) with avo. It lives in its own
// module so that the main module does not depend on avo or x/tools.
// ./rowsum in this module generates package kernels' row-sum loop
// (kernels/rowsum_amd64.s; see its doc for the command), ./svdf its SVDF
// time products (kernels/svdf_amd64.s), ./add the same-shape ADD loops
// (kernels/add_amd64.s), ./lstm the float LSTM's step loops
// (kernels/lstm_amd64.s), ./f32avx2 the AVX2 forms of the float
// depthwise, hybrid conv and average-pool loops (kernels/f32_avx2_amd64.s),
// ./firstconv the direct int8 first-layer convolution
// (kernels/conv_first_s8_amd64.s), ./quantize the wide float → int8
// QUANTIZE loops (kernels/quantize_xnn_amd64.s), ./convfirst the
// direct float convolution of few-channel first layers
// (kernels/conv_first_f32_amd64.s), ./ewavx2 the AVX2 forms of the
// element-wise and pooling loops that had only AVX-512 or Go (8-bit
// clamp, table lookup and its affine form, integer average-pool sums,
// int16 ADD, the 2×2 max pool with an affine map; kernels/ew_avx2_amd64.s), ./lut8bw the byte table lookup for AVX-512BW
// CPUs without VBMI (kernels/lut8_bw_amd64.s) and ./dwgrpq the tap-grouped int8
// depthwise loops with fused requantization
// (kernels/depthwise_grpq_amd64.s). ./gemv8 generates the one-row int8
// product of the AVX2 family by nibbles (kernels/gemm/s8nib_amd64.s).
//
// Run from this directory:
//
//	go run . -out ../../kernels/gemm/kernels_amd64.s -stubs ../../kernels/gemm/kernels_amd64.go -pkg gemm
//
// Every kernel works on packed panels prepared by the Go driver in package
// gemm: A as k-steps of mr values (one per output row) and B as k-steps of
// nr values (one per output column), so the inner loop only ever reads
// contiguous memory. Registers are assigned by hand (physical registers)
// because the tiles are sized to use nearly the whole register file.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// zmm returns the i-th physical zmm register.
func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

// ymm returns the i-th physical ymm register.
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func main() {
	ConstraintExpr("!noasm")
	// The tile shapes trade register use against load-port pressure: wide
	// tiles (6x64) need fewer broadcasts per FMA, tall narrow ones (28x16)
	// keep all lanes busy when a layer has only 16 output channels.
	for _, t := range [][2]int{{6, 4}, {14, 2}, {28, 1}} {
		sgemmAVX512(t[0], t[1])
		s8VNNI(t[0], t[1])
		sgemmAVX512Direct(t[0], t[1])
		s8VNNIDirect(t[0], t[1])
		s8VNNISegmented(t[0], t[1])
		sgemmAVX512Segmented(t[0], t[1])
		sgemmAVX512Strided(t[0], t[1])
		sgemmAVX512DirectStore(t[0], t[1])
		sgemmAVX512SegmentedFused(t[0], t[1])
	}
	sgemmAVX2(6, 2)
	avx2SegmentedAll()
	sgemmAVX2SmallAll()
	s8AVX2(6, 2)
	s8AVX2Direct(6, 2)
	requantRowsAVX512(false)
	requantRowsAVX512(true)
	requantRowsFastAVX512(false, false)
	requantRowsFastAVX512(true, false)
	biasClampAVX512()
	biasClampAVX2()
	sgemmAVX512SegmentedFusedTails()
	sgemmAVX512SegmentedFusedPtr(6, 4)
	sgemmAVX512SmallAll()
	s8VNNISegmentedFusedAll()
	requantRowsAVX2(false)
	requantRowsAVX2(true)
	s8AVX2SegmentedFusedAll()
	s8AVX2SegI16All()
	s8AVXVNNIAll()
	s8AVX512WAll()
	s8AVX2RowAll()
	s8AVXVNNIWSegI16All()
	s8AVXVNNISegTailAll()
	Generate()
}

// sgemmAVX512 emits C[i][j] += alpha·Σ_p A[p][i]·B[p][j] for an mr×(16·nv)
// tile; a and b are packed panels, c has row stride ldc (elements).
func sgemmAVX512(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512x%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times the product of packed panels a (k×%d) and b (k×%d) to the %d×%d tile at c.", name, mr, 16*nv, mr, 16*nv))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c, ldc := loadC()
	t := zmmTile(mr, nv)
	if mr*nv+1 >= 31 {
		panic("tile too large")
	}
	t.zero()
	kLoop1(k, func() {
		t.bcstKStep(func(i int) Mem { return Mem{Base: a, Disp: 4 * i} }, b)
		ADDQ(U32(4*mr), a)
		ADDQ(U32(64*nv), b)
	})
	t.storeF32(c, ldc, t.bv(0), zmm(31), 40, false)
}

// s8VNNI emits C[i][j] = init[j] + Σ_q Σ_{t<4} A[q][i][t]·B[q][j][t] with
// VPDPBUSD (u8×s8 → s32, wrapping): a holds k4 groups of mr×4 unsigned
// bytes, b holds k4 groups of nr×4 signed bytes, init holds nr int32s.
func s8VNNI(mr, nv int) { s8QuadPacked(zmmTile(mr, nv), "s8VNNI", "") }

// sgemmAVX2 is sgemmAVX512 for AVX2+FMA: an mr×(8·nv) tile in ymm registers.
func sgemmAVX2(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX2x%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times the product of packed panels a (k×%d) and b (k×%d) to the %d×%d tile at c.", name, mr, 8*nv, mr, 8*nv))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c, ldc := loadC()
	t := ymmTile(mr, nv)
	t.check(1)
	av := t.next(0)
	t.zero()
	kLoop1(k, func() {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: 32 * v}, t.bv(v))
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(Mem{Base: a, Disp: 4 * i}, av)
			for v := 0; v < nv; v++ {
				VFMADD231PS(av, t.bv(v), t.acc(i, v))
			}
		}
		ADDQ(U32(4*mr), a)
		ADDQ(U32(32*nv), b)
	})
	t.storeF32(c, ldc, t.bv(0), av, 40, false)
}

// s8AVX2 is the AVX2 int8 kernel. VPMADDUBSW saturates its int16 pair sums,
// so the driver widens both operands to int16 and VPMADDWD sums exact
// int32 products: a holds k2 groups of mr×2 int16, b k2 groups of nr×2
// int16, and C[i][j] = init[j] + Σ products (wrapping).
func s8AVX2(mr, nv int) { s8I16Packed(ymmTile(mr, nv), "s8AVX2", "") }

// s8AVX2Direct is s8AVX2 reading A unpacked: row i is 2·k2 signed bytes
// at a + i·lda. Each pair of bytes is broadcast to every 16-bit lane and
// sign-extended to the int16 pair s8AVX2 gets from its packed panel, so a
// conv with few output channels (where each packed A sliver fed only one
// or two B slivers) skips the packing pass that cost more than the
// multiply. b is the same int16 panel as s8AVX2's.
func s8AVX2Direct(mr, nv int) { s8I16Direct(ymmTile(mr, nv), "s8AVX2", "") }

// rowAddrs returns mr addresses of A's rows, rows i at a + i·lda bytes,
// using one base register per three rows (base, base+lda, base+2·lda via
// the SIB scale) so a tall tile needs few registers; step advances them.
type rowAddrs struct {
	bases []GPVirtual
	lda   GPVirtual
}

func newRowAddrs(mr int, a, lda GPVirtual) *rowAddrs {
	r := &rowAddrs{lda: lda}
	r.bases = append(r.bases, a)
	for i := 3; i < mr; i += 3 {
		b := GP64()
		// b = previous base + 3·lda
		LEAQ(Mem{Base: r.bases[len(r.bases)-1], Index: lda, Scale: 2}, b)
		ADDQ(lda, b)
		r.bases = append(r.bases, b)
	}
	return r
}

func (r *rowAddrs) row(i, disp int) Mem {
	m := Mem{Base: r.bases[i/3], Disp: disp}
	if i%3 > 0 {
		m.Index, m.Scale = r.lda, uint8(i%3)
	}
	return m
}

func (r *rowAddrs) step(bytes int) {
	for _, b := range r.bases {
		ADDQ(U32(bytes), b)
	}
}

// sgemmAVX512Direct is sgemmAVX512 reading A unpacked: row i of the tile
// starts at a + i·lda (elements), k consecutive values each. Conv layers
// with few output channels use each A row once, so packing A would cost
// as much as the multiply.
func sgemmAVX512Direct(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512Dx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times A (%d rows of k at stride lda) times the packed panel b (k×%d) to the tile at c.", name, mr, 16*nv))
	sgemmAVX512DirectBody(mr, nv, false)
}

// sgemmAVX512DirectBody emits the body of sgemmAVX512Direct or, with
// overwrite, of sgemmAVX512DirectStore (same signature).
func sgemmAVX512DirectBody(mr, nv int, overwrite bool) {
	k := Load(Param("k"), GP64())
	rows, b := loadARows(mr, true)
	t := zmmTile(mr, nv)
	t.zero()
	kLoop1(k, func() {
		t.bcstKStep(func(i int) Mem { return rows.row(i, 0) }, b)
		rows.step(4)
		ADDQ(U32(64*nv), b)
	})
	c, ldc := loadC()
	t.storeF32(c, ldc, t.bv(0), zmm(31), 48, overwrite)
}

// s8VNNIDirect is s8VNNI reading A unpacked as signed bytes, row i at
// a + i·lda: each broadcast group of 4 bytes is flipped to a+128 (u8) in a
// register, which costs one XOR per row and step but no packing pass.
// The last group of a row may read up to 3 bytes past k; the packed B
// holds zeros there, so they add nothing (the caller keeps the reads
// inside A's slice).
func s8VNNIDirect(mr, nv int) { s8QuadDirect(zmmTile(mr, nv), "s8VNNI", "") }

// biasClampAVX512 emits c[j] = min(max(c[j] + bias[j], lo), hi) for
// groups×16 floats: the float conv/dense epilogue (bias and fused
// RELU/RELU6), applied while the output tile is still in L1.
func biasClampAVX512() {
	TEXT("biasClampAVX512", NOSPLIT, "func(groups int, c, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc("biasClampAVX512 adds bias to groups×16 floats at c and clamps them to [lo, hi].")
	n := Load(Param("groups"), GP64())
	c := Load(Param("c"), GP64())
	b := Load(Param("bias"), GP64())
	lo, hi, x := Z1, Z2, Z0
	VBROADCASTSS(NewParamAddr("lo", 24), lo)
	VBROADCASTSS(NewParamAddr("hi", 28), hi)
	TESTQ(n, n)
	JE(LabelRef("done"))
	Label("loop")
	VMOVUPS(Mem{Base: c}, x)
	VADDPS(Mem{Base: b}, x, x)
	// x as the second source (Intel order): MAXPS/MINPS return it when
	// either operand is NaN, so a NaN survives the clamp as it does in
	// TFLite's std::min(std::max(x, lo), hi), and ties return x as well.
	VMAXPS(x, lo, x)
	VMINPS(x, hi, x)
	VMOVUPS(x, Mem{Base: c})
	ADDQ(U32(64), c)
	ADDQ(U32(64), b)
	DECQ(n)
	JNE(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// biasClampAVX2 is biasClampAVX512 for AVX2: the same operations and
// operand order on two 8-float halves per group of 16, so NaN and signed
// zeros come out as on AVX-512.
func biasClampAVX2() {
	TEXT("biasClampAVX2", NOSPLIT, "func(groups int, c, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc("biasClampAVX2 adds bias to groups×16 floats at c and clamps them to [lo, hi].")
	n := Load(Param("groups"), GP64())
	c := Load(Param("c"), GP64())
	b := Load(Param("bias"), GP64())
	lo, hi, x, y := Y2, Y3, Y0, Y1
	VBROADCASTSS(NewParamAddr("lo", 24), lo)
	VBROADCASTSS(NewParamAddr("hi", 28), hi)
	TESTQ(n, n)
	JE(LabelRef("done"))
	Label("loop")
	VMOVUPS(Mem{Base: c}, x)
	VMOVUPS(Mem{Base: c, Disp: 32}, y)
	VADDPS(Mem{Base: b}, x, x)
	VADDPS(Mem{Base: b, Disp: 32}, y, y)
	VMAXPS(x, lo, x)
	VMAXPS(y, lo, y)
	VMINPS(x, hi, x)
	VMINPS(y, hi, y)
	VMOVUPS(x, Mem{Base: c})
	VMOVUPS(y, Mem{Base: c, Disp: 32})
	ADDQ(U32(64), c)
	ADDQ(U32(64), b)
	DECQ(n)
	JNE(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// s8VNNISegmented is s8VNNIDirect over segmented A rows: nseg segments of
// kqSeg groups of 4 bytes; after each segment every row pointer moves on
// by adj = segStride − 4·kqSeg bytes. The packed b holds the segments'
// groups back to back. It runs an int8 convolution without im2col (see
// PackedS8.MulRequantSegmented). The segment and group counters live in
// the argument slots, which leaves the registers to the row pointers.
func s8VNNISegmented(mr, nv int) { s8QuadSegmented(zmmTile(mr, nv), "s8VNNI", "") }

// sgemmAVX512Segmented is sgemmAVX512Direct over segmented A rows: nseg
// segments of kSeg floats; after each segment every row pointer moves on
// by adj bytes (segment stride minus 4·kSeg). Accumulators stay in
// registers across segments, so a convolution's filter rows cost one C
// update instead of one per row (see PackedF32.MulSegmented).
func sgemmAVX512Segmented(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512Sx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b to the tile at c.", name, mr))
	rows, b := loadARows(mr, true)
	t := zmmTile(mr, nv)
	t.zero()
	k := GP64()
	Label("segment")
	Load(Param("kSeg"), k)
	TESTQ(k, k)
	JE(LabelRef("next"))
	Label("loop")
	t.bcstKStep(func(i int) Mem { return rows.row(i, 0) }, b)
	rows.step(4)
	ADDQ(U32(64*nv), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("next")
	rows.nextSegment(32)
	c, ldc := loadC()
	t.storeF32(c, ldc, t.bv(0), zmm(31), 64, false)
}

// sgemmAVX512Strided is sgemmAVX512 over unpacked, k-major operands: step
// p of A is the mr values at a + p·lda and step p of B the nr values at
// b + p·ldb (elements). This is the product Aᵀ·B of two matrices stored
// with k as their row index — a weight gradient dW = dYᵀ·X, where k is
// the batch's pixel count — whose packing would copy both operands whole
// for a multiply that uses each value only a few times.
func sgemmAVX512Strided(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512Tx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times Σ_p (%d values at a+p·lda) ⊗ (%d values at b+p·ldb) to the tile at c.", name, mr, 16*nv))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	t := zmmTile(mr, nv)
	t.zero()
	kLoop1(k, func() {
		t.bcstKStep(func(i int) Mem { return Mem{Base: a, Disp: 4 * i} }, b)
		ADDQ(lda, a)
		ADDQ(ldb, b)
	})
	c, ldc := loadC()
	t.storeF32(c, ldc, t.bv(0), zmm(31), 56, false)
}

// sgemmAVX512DirectStore is sgemmAVX512Direct overwriting the tile
// instead of adding to it: Sgemm with beta = 0 then neither clears C in a
// separate pass nor reads it back (for a conv output or input gradient C
// is the largest matrix of the product).
func sgemmAVX512DirectStore(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512DZx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores alpha times A (%d rows of k at stride lda) times the packed panel b (k×%d) into the tile at c, not reading c.", name, mr, 16*nv))
	sgemmAVX512DirectBody(mr, nv, true)
}
