package kernels

// Layout, indexing and shape ops. They move elements without arithmetic, so most work by element width rather than dtype.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareReshapeLike(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareTranspose(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSplit(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func preparePack(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareUnpack(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSlice(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareStridedSlice(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareTile(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareGather(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareGatherND(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareShape(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareRank(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareFill(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareRange(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareBroadcastTo(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareMirrorPad(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareReverse(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSpaceToBatchND(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareBatchToSpaceND(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareSpaceToDepth(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }

func prepareDepthToSpace(p *prep) (Kernel, error) { return nil, p.unsupported(whyNoKernelYet) }
