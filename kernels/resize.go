package kernels

// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareResize(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
