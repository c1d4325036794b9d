package kernels

// Elementwise binary ops with NumPy broadcasting: MUL, SUB, DIV, SQUARED_DIFFERENCE, MINIMUM, MAXIMUM, FLOOR_DIV, FLOOR_MOD, POW, comparisons, logical ops, SELECT, ADD_N, PRELU.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareMul(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSub(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareDiv(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSquaredDifference(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareMinimum(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareMaximum(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareFloorDiv(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareFloorMod(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func preparePow(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareCompare(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareLogical(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSelect(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareAddN(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func preparePrelu(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
