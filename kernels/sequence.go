package kernels

// UNIDIRECTIONAL_SEQUENCE_LSTM (SVDF is in svdf.go).
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareSequenceLSTM(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
