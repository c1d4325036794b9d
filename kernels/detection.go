package kernels

// TFLite_Detection_PostProcess, the custom op SSD detectors end with.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareDetectionPostProcess(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
