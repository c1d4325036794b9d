package gemm

// The "TN" product C += alpha·Aᵀ·B, where A (k×m) and B (k×n) are both
// stored with k as their row index, is the shape of every weight gradient
// in training: dW = dYᵀ·X with k = batch × output pixels (up to 10⁵ for a
// first conv layer) and m, n only the channel counts. Packing would copy
// both operands whole (each is read only ⌈m/mr⌉ or ⌈n/nr⌉ times), so this
// path feeds them to strided kernels in place: step p of a tile reads mr
// contiguous values of one operand's row p and nr of the other's.
//
// Because both operands are k-major, the roles can be swapped for free:
// Cᵀ = Bᵀ·A. The driver picks the orientation whose tile shape wastes the
// fewest lanes (a 16-channel gradient with 27 patch values fits a 28×16
// tile only as 27×16) and writes a swapped tile back transposed.

// kcTN is the depth of one k block: a block's rows of both operands
// (kcTN·(m+n) floats) stay in L2 while every tile of C consumes them.
const kcTN = 256

// tnPlan is one oriented TN product: P supplies the mr tile rows, Q the
// nr tile columns. With swap, P is B and tile element (r, s) belongs to
// C[s][r].
type tnPlan struct {
	kern     *f32Kernel
	swap     bool
	k        int
	p, q     []float32
	ldp, ldq int
	pw, qw   int // widths of P and Q (tile rows and columns in total)
	alpha    float32
	c        []float32
	ldc      int
}

// planTN picks the kernel and orientation for C[m×n] += alpha·Aᵀ·B from
// set, or returns ok false when the family has no strided kernels.
func planTN(set *f32Set, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (tnPlan, bool) {
	var best tnPlan
	bestScore := -1.0
	for i := range set.kernels {
		kern := &set.kernels[i]
		if kern.tn == nil {
			continue
		}
		for _, swap := range []bool{false, true} {
			if swap && k < kcTN {
				// A swapped tile is flushed through scratch, transposed,
				// after every k block: with few k-steps (a dense layer's
				// batch) that costs more than the multiply.
				continue
			}
			pw, qw := m, n
			if swap {
				pw, qw = n, m
			}
			score := useful(pw, kern.mr) * useful(qw, kern.nr) * kern.weight
			if !swap {
				// A direct orientation writes full tiles straight into C.
				score *= 1.001
			}
			if score > bestScore {
				bestScore = score
				best = tnPlan{kern: kern, swap: swap, k: k, pw: pw, qw: qw, alpha: alpha, c: c, ldc: ldc,
					p: a, ldp: lda, q: b, ldq: ldb}
				if swap {
					best.p, best.ldp, best.q, best.ldq = b, ldb, a, lda
				}
			}
		}
	}
	return best, bestScore >= 0
}

// safeSteps is how many k-steps p (from 0) can read x[p·ld : p·ld+end]
// without leaving x.
func safeSteps(lenX, ld, end int) int {
	if lenX < end {
		return 0
	}
	return (lenX-end)/ld + 1
}

// run computes the tiles whose P offsets lie in [r0, r1) (r0 a multiple of
// mr), over all of k. Tiles narrower than the kernel read past their last
// row or column into the next k-step's values — harmless, since those
// lanes land in scratch-tile rows or columns that are discarded — except
// near the end of an operand, where the last steps go through zero-padded
// copies instead.
func (pl *tnPlan) run(r0, r1 int) {
	kern := pl.kern
	mr, nr := kern.mr, kern.nr
	bufp := getF32(mr*nr + kcTN*(mr+nr))
	defer f32Pool.Put(bufp)
	buf := *bufp
	tile, pp, qq := buf[:mr*nr], buf[mr*nr:mr*nr+kcTN*mr], buf[mr*nr+kcTN*mr:]
	for pc, kb := 0, 0; pc < pl.k; pc += kb {
		kb = min(kcTN, pl.k-pc)
		for i0 := r0; i0 < r1; i0 += mr {
			h := min(mr, r1-i0)
			for j0 := 0; j0 < pl.qw; j0 += nr {
				w := min(nr, pl.qw-j0)
				inPlace := !pl.swap && h == mr && w == nr
				dst, ldd := &tile[0], nr
				if inPlace {
					dst, ldd = &pl.c[i0*pl.ldc+j0], pl.ldc
				} else {
					clear(tile)
				}
				safe := kb
				if h < mr {
					safe = min(safe, safeSteps(len(pl.p), pl.ldp, i0+mr)-pc)
				}
				if w < nr {
					safe = min(safe, safeSteps(len(pl.q), pl.ldq, j0+nr)-pc)
				}
				safe = max(safe, 0)
				if safe > 0 {
					kern.tn(safe, &pl.p[pc*pl.ldp+i0], pl.ldp, &pl.q[pc*pl.ldq+j0], pl.ldq, dst, ldd, pl.alpha)
				}
				if rest := kb - safe; rest > 0 {
					p0 := pc + safe
					for s := 0; s < rest; s++ {
						pr, qr := pp[s*mr:(s+1)*mr], qq[s*nr:(s+1)*nr]
						clear(pr[copy(pr, pl.p[(p0+s)*pl.ldp+i0:][:h]):])
						clear(qr[copy(qr, pl.q[(p0+s)*pl.ldq+j0:][:w]):])
					}
					kern.tn(rest, &pp[0], mr, &qq[0], nr, dst, ldd, pl.alpha)
				}
				if inPlace {
					continue
				}
				if !pl.swap {
					for r := 0; r < h; r++ {
						crow := pl.c[(i0+r)*pl.ldc+j0:][:w]
						for s, v := range tile[r*nr : r*nr+w] {
							crow[s] += v
						}
					}
					continue
				}
				// Swapped: tile row r is column i0+r of C.
				for s := 0; s < w; s++ {
					crow := pl.c[(j0+s)*pl.ldc+i0:][:h]
					for r := range crow {
						crow[r] += tile[r*nr+s]
					}
				}
			}
		}
	}
}

// sgemmTN runs C += alpha·Aᵀ·B (A k×m, B k×n, C already scaled by beta)
// on up to threads goroutines, splitting the tiles' rows. Each C element
// is summed in the same order whatever the thread count. It reports false
// (doing nothing) when set has no strided kernels.
func sgemmTN(set *f32Set, threads, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	pl, ok := planTN(set, m, n, k, alpha, a, lda, b, ldb, c, ldc)
	if !ok {
		return false
	}
	if threads <= 1 || pl.pw <= pl.kern.mr {
		pl.run(0, pl.pw)
		return true
	}
	parallelRows(threads, pl.pw, pl.kern.mr, pl.run)
	return true
}
