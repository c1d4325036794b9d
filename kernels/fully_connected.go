package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// FULLY_CONNECTED: weights [outC, depth], optional bias [outC]; the input
// is read as rows of depth values (any leading shape, batch included), the
// output as rows of outC values. keep_num_dims only changes the output
// shape, which shape inference has already fixed. Float32 and int8 run as
// one GEMM against weights packed once at prepare time (the stored layout,
// one row per output channel, is gemm's B), then the per-channel epilogue;
// 16x8 runs pair-product tiles (fc16x8.go) with TFLite's int32-or-int64
// accumulator, a direct loop being its reference.

// fcChunkRows is the most rows one int8 GEMM call covers; with wide
// outputs fewer, so the accumulator block stays within im2colBudget.
const fcChunkRows = 256

// prepareFullyConnected builds a FULLY_CONNECTED kernel (PrepareFunc) with
// TFLite's reference arithmetic (fixedpoint.DoubleRounding).
func prepareFullyConnected(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return prepareFullyConnectedRounding(op, ins, outs, fixedpoint.DoubleRounding)
}

// prepareFullyConnectedRounding is the PrepareFunc body for the arithmetic rnd (see
// heavyPrepareWith).
func prepareFullyConnectedRounding(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error) {
	return prepareFullyConnectedWith(op, ins, outs, rnd, false)
}

// prepareFullyConnectedWith is prepareFullyConnectedRounding; ref picks
// the plain reference loops where a fast form exists (uint8).
func prepareFullyConnectedWith(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	opts, _ := op.Options.(*graph.FullyConnectedOptions)
	act := graph.ActNone
	if opts != nil {
		act = opts.Activation
	}
	if len(ins) < 2 || ins[0] == nil || ins[1] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input, weights and output tensors", op.Kind)
	}
	in, w, out := ins[0], ins[1], outs[0]
	var bias *graph.Tensor
	if len(ins) > 2 {
		bias = ins[2]
	}
	if len(w.Shape) != 2 || w.Shape[0] < 1 || w.Shape[1] < 1 {
		return nil, fmt.Errorf("%s: weights %q shape %v must be [outputs, depth]", op.Kind, w.Name, w.Shape)
	}
	n, depth := w.Shape[0], w.Shape[1]
	if in.NumElements()%depth != 0 {
		return nil, fmt.Errorf("%s: input %q shape %v is not a whole number of rows of depth %d (weights %q)", op.Kind, in.Name, in.Shape, depth, w.Name)
	}
	rows := in.NumElements() / depth
	if len(out.Shape) == 0 || out.Shape[len(out.Shape)-1] != n || out.NumElements() != rows*n {
		return nil, fmt.Errorf("%s: output %q shape %v, want %d rows of %d", op.Kind, out.Name, out.Shape, rows, n)
	}
	f := &fc{op: op, n: n, depth: depth, inD: in.DType, outD: out.DType}
	switch {
	case in.DType == graph.Float32 && out.DType == graph.Float32 && w.DType == graph.Int8:
		return newFCHybrid(f, w, bias, act, opts != nil && opts.AsymmetricQuantizeInputs, rows)
	case in.DType == graph.Float32 && out.DType == graph.Float32:
		var err error
		wv, err := constFloatWeights(op, w, n*depth)
		if err != nil {
			return nil, err
		}
		f.wf = gemm.PackF32Rows(max(rows, 1), wv, n, depth, depth)
		if f.bf, err = floatBias(op, bias, n); err != nil {
			return nil, err
		}
		if f.bf == nil {
			f.bf = make([]float32, n) // MulBiasClamp would allocate zeros per call
		}
		if f.flo, f.fhi, err = ActivationRangeFloat(act); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		return &fcFloat{f}, nil
	case in.DType == graph.Int8 && out.DType == graph.Int8:
		sIn, zpIn, err := tensorQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		if zpIn < -128 || zpIn > 127 {
			return nil, fmt.Errorf("%s: input %q zero point %d outside int8", op.Kind, in.Name, zpIn)
		}
		wv, err := constInt8Weights(op, w, n*depth)
		if err != nil {
			return nil, err
		}
		f.chunk = max(1, min(fcChunkRows, im2colBudget/n))
		f.ws8 = gemm.PackS8Rows(max(1, min(rows, f.chunk)), wv, n, depth, depth)
		scales, wOff, err := weightScales(op, w, n, true)
		if err != nil {
			return nil, err
		}
		bv, _, err := intBias(op, bias, n)
		if err != nil {
			return nil, err
		}
		rq := rnd
		if wOff != 0 {
			rq = rnd.Builtin() // XNNPACK's int8 FC takes symmetric weights only
		}
		if f.rq, err = newRequant(rq, op, sIn, scales, out, act, bv, n); err != nil {
			return nil, err
		}
		f.inOff, f.wOff = -zpIn, wOff
		f.acc.New = func() any { s := make([]int32, f.chunk*n); return &s }
		return &fcInt8{f}, nil
	case in.DType == graph.Int16 && out.DType == graph.Int16:
		rq, wv, err := prepare16x8(rnd, op, in, w, bias, out, act, n, n*depth)
		if err != nil {
			return nil, err
		}
		f.rq, f.wi = rq, wv
		if ref {
			return &fcInt16{f}, nil
		}
		return newFCInt16Fast(f, x16Best()), nil
	case in.DType == graph.UInt8 && out.DType == graph.UInt8:
		return newFCU8(rnd, f, in, w, bias, out, act, ref)
	}
	return nil, unsupported(op, ins, outs, "no FULLY_CONNECTED kernel for these dtypes")
}

// fc is the state shared by the dtype variants.
type fc struct {
	op        *graph.Op
	inD, outD graph.DType
	n, depth  int
	wf        *gemm.PackedF32
	bf        []float32
	flo, fhi  float32
	wi        []int8 // as stored (16x8 direct loop)
	ws8       *gemm.PackedS8
	inOff     int32 // −input zero point
	wOff      int32 // −weights zero point (per-tensor int8 only)
	rq        *requant
	chunk     int      // rows per int8 GEMM call
	acc       freeList // *[]int32 of chunk·n
}

// rows checks the buffers and returns the number of input rows.
func (f *fc) rows(ins, outs []*Buffer) (in, out *Buffer, rows int, err error) {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, nil, 0, fmt.Errorf("%s: missing input or output buffer", f.op.Kind)
	}
	in, out = ins[0], outs[0]
	nIn := typedLen(in, f.inD)
	if nIn%f.depth != 0 {
		return nil, nil, 0, fmt.Errorf("%s: input buffer of %d elements is not a whole number of rows of %d", f.op.Kind, nIn, f.depth)
	}
	rows = nIn / f.depth
	return in, out, rows, checkLen(f.op, "output", typedLen(out, f.outD), rows*f.n)
}

type fcFloat struct{ *fc }

// Run implements Kernel.
func (f fcFloat) Run(ins, outs []*Buffer) error {
	in, out, m, err := f.rows(ins, outs)
	if err != nil {
		return err
	}
	f.wf.MulBiasClamp(1, m, in.F32, f.depth, f.bf, f.flo, f.fhi, out.F32[:m*f.n], f.n)
	return nil
}

type fcInt8 struct{ *fc }

// Run implements Kernel.
func (f fcInt8) Run(ins, outs []*Buffer) error {
	in, out, m, err := f.rows(ins, outs)
	if err != nil {
		return err
	}
	ap := f.acc.Get().(*[]int32)
	defer f.acc.Put(ap)
	acc := *ap
	src, dst := in.I8, out.I8
	n, k := f.n, f.depth
	for r0 := 0; r0 < m; r0 += f.chunk {
		rows := min(f.chunk, m-r0)
		a := src[r0*k : (r0+rows)*k]
		if f.wOff == 0 && f.rq.fast != nil {
			f.ws8.MulRequant(rows, a, k, f.inOff, f.rq.fast, dst[r0*n:(r0+rows)*n], n)
			continue
		}
		f.ws8.Mul(rows, a, k, f.inOff, acc, n)
		if f.wOff != 0 {
			// Σ(w+wo)(x+xo) = Σw(x+xo) + wo·Σ(x+xo): GemmS8 takes
			// symmetric weights, so add the offset term per row.
			for i := 0; i < rows; i++ {
				var s int32
				for _, x := range a[i*k : (i+1)*k] {
					s += int32(x) + f.inOff
				}
				row := acc[i*n : (i+1)*n]
				for j := range row {
					row[j] += f.wOff * s
				}
			}
		}
		requantRows(dst[r0*n:(r0+rows)*n], acc[:rows*n], n, f.rq)
	}
	return nil
}

type fcInt16 struct{ *fc }

// Run implements Kernel.
func (f fcInt16) Run(ins, outs []*Buffer) error {
	in, out, m, err := f.rows(ins, outs)
	if err != nil {
		return err
	}
	src, dst := in.I16, out.I16
	n, k := f.n, f.depth
	for i := 0; i < m; i++ {
		x := src[i*k : (i+1)*k]
		for j := 0; j < n; j++ {
			w := f.wi[j*k : (j+1)*k]
			var acc int64
			for p, xv := range x {
				acc += int64(w[p]) * int64(xv)
			}
			var v int32
			if f.rq.acc64 {
				v = f.rq.apply64(acc, j)
			} else {
				v = f.rq.apply32(int32(acc), j)
			}
			dst[i*n+j] = int16(v)
		}
	}
	return nil
}
