//go:build !amd64 || noasm

package kernels

// dwGrpAvailable is false for both loops without the assembly: the
// plain loops run.
func dwGrpAvailable() (vnni, pairs bool) { return false, false }

// dwGrpRunnable is false for both loops without the assembly.
func dwGrpRunnable() (vnni, pairs bool) { return false, false }

// interleave is never called here (newDwGrp returns nil).
func (p *dwGrp) interleave(dst []byte, s [][]byte) int {
	panic("kernels: tap-grouped depthwise without assembly")
}

// accBlock is never called here (newDwGrp returns nil).
func (p *dwGrp) accBlock(acc []int32, accStride int, x []byte, step, npix, ntaps int, w, init *int32, n int) {
	panic("kernels: tap-grouped depthwise without assembly")
}

// accPacked is never called here (newDwGrp returns nil).
func (p *dwGrp) accPacked(acc []int32, x []byte, base, groups, s int) {
	panic("kernels: tap-grouped depthwise without assembly")
}

// dwGrpQAvailable is false: no fused loops without the assembly.
func dwGrpQAvailable() bool { return false }

// accQ is never called here (newDwGrp returns nil).
func (p *dwGrp) accQ(dst *int8, dstStride int, x *byte, step, npix, ntaps int, w, init, prm *int32, mask uint64, n int) {
	panic("kernels: tap-grouped depthwise without assembly")
}
