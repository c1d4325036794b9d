package kernels

// Layout, indexing and shape ops. They move elements without arithmetic, so most work by element width rather than dtype.
//
// Kernels not written yet report ErrUnsupported naming the op.

func prepareReshapeLike(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareTranspose(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSplit(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func preparePack(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareUnpack(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSlice(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareStridedSlice(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareTile(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareGather(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareGatherND(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareShape(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareRank(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareFill(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareRange(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareBroadcastTo(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareMirrorPad(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareReverse(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSpaceToBatchND(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareBatchToSpaceND(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareSpaceToDepth(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }

func prepareDepthToSpace(p *prep) (Kernel, error) { return nil, p.unsupported("no kernel yet") }
