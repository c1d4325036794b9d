package kernels

// Elementwise unary ops and activations: ABS, NEG, SQRT, RSQRT, SQUARE, EXP, LOG, SIN, COS, FLOOR, CEIL, ROUND, SIGN, TANH, HARD_SWISH, GELU, ELU, RELU_N1_TO_1, RELU_0_TO_1, CAST, ZEROS_LIKE, LOG_SOFTMAX, L2_NORMALIZATION.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareUnary(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareCast(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareZerosLike(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareLogSoftmax(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareL2Normalization(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
