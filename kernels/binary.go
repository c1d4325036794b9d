package kernels

// Elementwise binary ops with NumPy broadcasting: MUL, SUB, DIV, SQUARED_DIFFERENCE, MINIMUM, MAXIMUM, FLOOR_DIV, FLOOR_MOD, POW, comparisons, logical ops, SELECT, ADD_N, PRELU.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareMul(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSub(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareDiv(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSquaredDifference(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareMinimum(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareMaximum(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareFloorDiv(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareFloorMod(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func preparePow(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareCompare(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareLogical(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSelect(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareAddN(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func preparePrelu(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }
