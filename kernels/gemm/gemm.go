// Package gemm is qbench's matrix-multiply core. Every convolution, fully
// connected layer and training gradient funnels into the two entry points
// here, so speeding up this package speeds up all of qbench.
//
// The exported functions have fixed, BLAS-like semantics. Fast paths
// (assembly micro-kernels chosen at run time) live behind them; the plain-Go
// reference implementations in this file define the results, and every fast
// path is tested against them.
//
// # Fast paths
//
// The driver packs B (weights) into panels of nr columns and, in blocks of
// k, feeds register-blocked micro-kernels generated with avo
// (internal/asmgen): AVX-512 FMA tiles of 6×64, 14×32 and 28×16 floats and
// the matching AVX-512 VNNI int8 tiles (VPDPBUSD with A fed as a+128 and
// −128·Σ_p B[j][p] folded into the accumulator start), AVX2+FMA 6×16 tiles
// (int8 widened to int16 for VPMADDWD, since VPMADDUBSW saturates), and a
// plain-Go 4×4 tile with -tags noasm or off amd64. The tile shape is picked
// per call from m and n. With AVX-512, row-major A is read in place
// ("direct" kernels), so only B is packed; the other paths pack A panels
// too. golang.org/x/sys/cpu selects the family once.
//
// # Inference API
//
// Layers that reuse weights pack them once at prepare time:
//
//	pw := gemm.PackF32(w, cout, k, k)           // float weights [cout][k]
//	pw.MulBiasClamp(1, m, col, k, bias, 0, inf, out, cout) // conv/dense + bias + RELU
//
//	pq := gemm.PackS8(wq, cout, k, k)           // int8 weights, symmetric
//	rq, _ := gemm.NewRequant(fixedpoint.SingleRounding, bias32, mult, shift, outZP, lo, hi)
//	pq.MulRequant(m, colq, k, -inZP, rq, outq, cout) // int8 in → int8 out, TFLite-exact
//
// Stride-1 convolutions can skip im2col: pad the NHWC input once, pack
// with PackF32Segmented / PackS8Segmented (one segment per filter row)
// and call MulSegmented / MulRequantSegmented over the whole image (see
// their docs; 2–8× faster than im2col for seed-cnn's layers).
// MulSegmentedRows stores each row where a RowMap says (the valid pixels
// straight into the NHWC output) with bias and clamp fused into the
// AVX-512 micro-kernel, so C is neither cleared, read nor copied.
//
// Packed weights and Requant are read-only after construction and safe
// for concurrent use by many executors.
package gemm

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ as tA/tB say. op(A) is m×k, op(B) is k×n,
// C is m×n; lda, ldb, ldc are the row strides of A, B and C as stored.
// With beta == 0, C is overwritten without being read (NaNs in C vanish).
//
// It runs on the caller's goroutine (callers parallelise across samples;
// see SgemmThreads). Summation order differs from SgemmRef, so results
// agree to float32 rounding, not bit for bit.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(defaultF32, 1, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmRef is the plain-Go reference for Sgemm.
func SgemmRef(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		for j := range crow {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				crow[j] = alpha * s
			} else {
				crow[j] = alpha*s + beta*crow[j]
			}
		}
	}
}

// GemmS8 computes the int32 accumulators of TFLite's integer kernels:
// C[i][j] = Σ_p (int32(A[i][p]) + aOffset) · int32(B[j][p]).
// A is m×k (activations, row stride lda), B is n×k (weights, one row per
// output channel, row stride ldb), C is m×n (row stride ldc). aOffset is
// TFLite's input offset, −zero_point of the activations. Weights are
// symmetric (zero point 0) as TFLite requires for int8 conv and dense.
// Accumulation wraps like int32 arithmetic in C (it never overflows for
// realistic k, as in TFLite).
// The fast paths are bit-exact with GemmS8Ref. Inference code that reuses
// the same weights should pack them once with PackS8.
func GemmS8(m, n, k int, a []int8, lda int, aOffset int32, b []int8, ldb int, c []int32, ldc int) {
	gemmS8With(defaultS8, 1, m, n, k, a, lda, aOffset, b, ldb, c, ldc)
}

// Impl names the kernel families in use ("avx512/avx512vnni",
// "avx2/avx2", "go/go"), for benchmarks and reports.
func Impl() string { return defaultF32.name + "/" + defaultS8.name }

// GemmS8Ref is the plain-Go reference for GemmS8.
func GemmS8Ref(m, n, k int, a []int8, lda int, aOffset int32, b []int8, ldb int, c []int32, ldc int) {
	for i := 0; i < m; i++ {
		arow := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			brow := b[j*ldb : j*ldb+k]
			var s int32
			for p, av := range arow {
				s += (int32(av) + aOffset) * int32(brow[p])
			}
			c[i*ldc+j] = s
		}
	}
}
