package kernels

// fcInt16Fast is the 16x8 FULLY_CONNECTED through the packed pair-product
// tiles (gemm16x8.go); fcInt16's direct loop is its reference.
type fcInt16Fast struct {
	*fc
	p   *pack16x8
	epi *x16Epi // nil unless the accumulator is int64
}

// newFCInt16Fast packs f's weights for the tiles of level lv.
func newFCInt16Fast(f *fc, lv x16Level) *fcInt16Fast {
	k := &fcInt16Fast{fc: f, p: newPack16x8(f.wi, f.n, f.depth, lv)}
	if f.rq.acc64 {
		k.epi = newX16Epi(f.rq)
	}
	return k
}

// Run implements Kernel.
func (f *fcInt16Fast) Run(ins, outs []*Buffer) error {
	in, out, m, err := f.rows(ins, outs)
	if err != nil {
		return err
	}
	f.p.run(m, f, in.I16[:m*f.depth], f.rq, f.epi, out.I16[:m*f.n])
	return nil
}

// fill implements x16Rows: the input rows, in place when the depth is
// even and all mr rows exist.
func (f *fcInt16Fast) fill(s *x16Scratch, r0, cnt int) ([]int16, int) {
	k, kp2 := f.depth, 2*f.p.kp
	if cnt == f.p.tile.mr && k%2 == 0 {
		return s.src[r0*k:], k
	}
	for i := 0; i < cnt; i++ {
		row := s.a[i*kp2 : (i+1)*kp2]
		copy(row, s.src[(r0+i)*k:(r0+i+1)*k])
		clear(row[k:])
	}
	return s.a, kp2
}
