package kernels

// Reductions: SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD, REDUCE_ANY, ARG_MAX, ARG_MIN.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareReduce(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareArg(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
