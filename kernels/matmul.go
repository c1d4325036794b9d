package kernels

// TRANSPOSE_CONV, BATCH_MATMUL and L2_POOL_2D.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareTransposeConv(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareBatchMatMul(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareL2Pool(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
