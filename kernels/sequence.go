package kernels

// UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareSequenceLSTM(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSVDF(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
