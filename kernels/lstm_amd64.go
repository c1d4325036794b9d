//go:build amd64 && !noasm

package kernels

// lstmRowsArgs is lstmRows for lstmRowsAVX2: base pointers, and strides
// and gate offsets in bytes. The field offsets are fixed in
// internal/asmgen/lstm, which generates lstm_amd64.s (TestLSTMRowsArgsLayout
// pins them).
type lstmRowsArgs struct {
	xp, pre, bias, c, out     *float32 // 0, 8, 16, 24, 32
	peepI, peepF, peepO       *float32 // 40, 48, 56 (nil: no peephole)
	xstride, w, cstride, ostr int      // 64, 72, 80, 88
	n, nc                     int      // 96, 104 (values)
	offI, offF, offG, offO    int      // 112, 120, 128, 136
	cifg                      int      // 144 (1: i = 1 − f)
	clip                      float32  // 152
	act                       *float32 // 160: activated gates (two-pass form)
	actStride                 int      // 168
	cols                      *float32 // 176: per-column s, k, b, a (lstmActCols)
	colStride                 int      // 184
}

// lstmRowsVec runs a (a TANH LSTM) with AVX2 when the CPU has it, the
// gates pass with AVX-512 when it has that, and reports whether it did.
func lstmRowsVec(a *lstmRows) bool { return lstmRowsVecWith(a, hasAVX512) }

// lstmRowsVecWith is lstmRowsVec; wide picks the AVX-512 gates pass (the
// tests run both).
func lstmRowsVecWith(a *lstmRows, wide bool) bool {
	if a.n == 0 || a.nc == 0 {
		return true
	}
	if !hasAVX2 {
		return false
	}
	// What the vector form reads and writes, checked here once: whole
	// groups of 8 from each gate's start (at most 7 past the last gate's
	// end), c and peep rows of ncp, out rows of nc (the last group masked).
	last := max(a.off[0], a.off[1], a.off[2], a.off[3]) + a.ncp
	twoPass := a.peep == nil && a.cols != nil
	if twoPass {
		wp := (a.w + 7) &^ 7
		if wide {
			wp = (a.w + 15) &^ 15
		}
		last = max(last, wp)
		if len(a.cols) < 3*a.colStride+wp || len(a.gates) < (a.n-1)*a.gstride+last || a.gstride < (a.w+7)&^7 {
			panic("kernels: lstmRowsVec: short buffers")
		}
	}
	if len(a.xp) < (a.n-1)*a.xstride+last || len(a.pre) < (a.n-1)*a.w+last || len(a.bias) < last ||
		len(a.c) < (a.n-1)*a.cstride+a.ncp || len(a.out) < (a.n-1)*a.ostride+a.nc ||
		a.peep != nil && len(a.peep) < 3*a.ncp || a.ncp%8 != 0 || a.ncp < a.nc {
		panic("kernels: lstmRowsVec: short buffers")
	}
	const f4 = 4
	args := lstmRowsArgs{
		xp: &a.xp[0], pre: &a.pre[0], bias: &a.bias[0], c: &a.c[0], out: &a.out[0],
		xstride: a.xstride * f4, w: a.w * f4, cstride: a.cstride * f4, ostr: a.ostride * f4,
		n: a.n, nc: a.nc,
		offI: a.off[0] * f4, offF: a.off[1] * f4, offG: a.off[2] * f4, offO: a.off[3] * f4,
		clip: a.clip,
	}
	if a.off[0] < 0 {
		args.cifg, args.offI = 1, 0
	}
	if a.peep != nil {
		args.peepI, args.peepF, args.peepO = &a.peep[0], &a.peep[a.ncp], &a.peep[2*a.ncp]
	}
	if twoPass {
		args.act, args.actStride = &a.gates[0], a.gstride*f4
		args.cols, args.colStride = &a.cols[0], a.colStride*f4
		if wide {
			lstmGatesAVX512(&args)
		} else {
			lstmGatesAVX2(&args)
		}
		lstmCellsAVX2(&args)
		return true
	}
	lstmRowsAVX2(&args)
	return true
}
