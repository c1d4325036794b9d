package kernels

// BATCH_MATMUL and L2_POOL_2D (TRANSPOSE_CONV is in transpose_conv.go).
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareBatchMatMul(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareL2Pool(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
