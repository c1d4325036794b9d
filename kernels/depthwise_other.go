//go:build !amd64 || noasm

package kernels

// dwVecAvailable is false without the assembly: the Go loops run.
func dwVecAvailable() bool { return false }

// dwVecF32Available is false without the assembly.
func dwVecF32Available() bool { return false }

// accI32 is never called here (newDwVec returns nil).
func (v *dwVec) accI32(acc []int32, src []byte, base, step, npix int) {
	panic("kernels: depthwise vector loop without assembly")
}

// accF32 is never called here (newDwVec returns nil).
func (v *dwVec) accF32(acc []float32, src []float32, base, step, npix int) {
	panic("kernels: depthwise vector loop without assembly")
}

// accPacked is never called here (newDwVec returns nil).
func (v *dwVec) accPacked(acc []int32, src []byte, base, groups int) {
	panic("kernels: depthwise vector loop without assembly")
}
