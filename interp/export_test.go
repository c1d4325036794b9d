package interp

// DeferredKernels counts the plain-schedule kernels of p not prepared yet
// (deferPlainOnly), for the external tests.
func DeferredKernels(p *Program) int {
	n := 0
	for _, k := range p.prepared {
		if l, ok := k.(*lazyKernel); ok && l.k == nil && l.err == nil {
			n++
		}
	}
	return n
}

// FuseActivations is fuseActivations, for the external tests.
var FuseActivations = fuseActivations
