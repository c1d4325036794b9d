package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// CONV_3D, float32 as TFLite's builtin kernel takes it (the runtime has no
// integer CONV_3D): NDHWC input, [kd, kh, kw, in, out] filter, optional
// bias, SAME padding split with the smaller half before (TFLite's
// ComputePaddingWithOffset), fused activation. Sums run in filter order;
// TFLite's im2col + GEMM adds in another order, so results agree within
// float32 rounding (the tests allow 1e-5 of the output's range).

type conv3DKernel struct {
	in, out     [5]int // N, D, H, W, C
	k           [3]int // kd, kh, kw
	stride, dil [3]int
	pad         [3]int // before-padding per D, H, W
	w, bias     []float32
	lo, hi      float32
}

func (k *conv3DKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0].F32, outs[0].F32
	in, out := k.in, k.out
	ci, co := in[4], out[4]
	o := 0
	for n := range out[0] {
		for od := range out[1] {
			for oh := range out[2] {
				for ow := range out[3] {
					for oc := range co {
						var acc float32
						for kd := range k.k[0] {
							id := od*k.stride[0] - k.pad[0] + kd*k.dil[0]
							if id < 0 || id >= in[1] {
								continue
							}
							for kh := range k.k[1] {
								ih := oh*k.stride[1] - k.pad[1] + kh*k.dil[1]
								if ih < 0 || ih >= in[2] {
									continue
								}
								for kw := range k.k[2] {
									iw := ow*k.stride[2] - k.pad[2] + kw*k.dil[2]
									if iw < 0 || iw >= in[3] {
										continue
									}
									xb := (((n*in[1]+id)*in[2]+ih)*in[3] + iw) * ci
									wb := ((kd*k.k[1]+kh)*k.k[2] + kw) * ci * co
									for c := range ci {
										acc += x[xb+c] * k.w[wb+c*co+oc]
									}
								}
							}
						}
						if k.bias != nil {
							acc += k.bias[oc]
						}
						y[o] = min(max(acc, k.lo), k.hi)
						o++
					}
				}
			}
		}
	}
	return nil
}

func prepareConv3D(p *prep) (Kernel, error) {
	x, w, b, y := p.in(0), p.in(1), p.in(2), p.out(0)
	if x.DType != graph.Float32 || w.DType != graph.Float32 || y.DType != graph.Float32 || (b != nil && b.DType != graph.Float32) {
		return nil, p.unsupported("CONV_3D is float32 in TFLite's builtin kernels")
	}
	o, ok := p.op.Options.(*graph.Conv3DOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", p.op.Kind)
	}
	want, err := graph.Conv3DShape(x.Shape, w.Shape, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	if err := p.checkOut(0, want); err != nil {
		return nil, err
	}
	if !w.IsConst() {
		return nil, p.unsupported("the filter must be constant")
	}
	k := &conv3DKernel{w: w.Float32s()}
	copy(k.in[:], x.Shape)
	copy(k.out[:], want)
	copy(k.k[:], w.Shape[:3])
	k.stride = [3]int{o.StrideD, o.StrideH, o.StrideW}
	k.dil = [3]int{o.DilationD, o.DilationH, o.DilationW}
	if o.Padding == graph.PaddingSame {
		for d := range 3 {
			eff := (k.k[d]-1)*k.dil[d] + 1
			k.pad[d] = max((k.out[d+1]-1)*k.stride[d]+eff-k.in[d+1], 0) / 2
		}
	}
	if b != nil {
		if !b.IsConst() || b.NumElements() != w.Shape[4] {
			return nil, fmt.Errorf("%s: bias %q must be a constant of %d values: %w", p.op.Kind, b.Name, w.Shape[4], graph.ErrShape)
		}
		k.bias = b.Float32s()
	}
	if k.lo, k.hi, err = ActivationRangeFloat(o.Activation); err != nil {
		return nil, err
	}
	return k, nil
}

// conv3DTransposeKernel is TFLite's reference Conv3DTranspose: a zeroed
// output, each input value times each filter tap added where the tap lands
// (input order, then filter order), then bias and the fused activation.
type conv3DTransposeKernel struct {
	conv3DKernel // in is the op's input, out its output; filter [kd, kh, kw, out, in]
}

func (k *conv3DTransposeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[2].F32, outs[0].F32
	in, out := k.in, k.out
	ci, co := in[4], out[4]
	clear(y)
	for n := range in[0] {
		for id := range in[1] {
			for ih := range in[2] {
				for iw := range in[3] {
					xb := (((n*in[1]+id)*in[2]+ih)*in[3] + iw) * ci
					for kd := range k.k[0] {
						od := id*k.stride[0] - k.pad[0] + kd*k.dil[0]
						if od < 0 || od >= out[1] {
							continue
						}
						for kh := range k.k[1] {
							oh := ih*k.stride[1] - k.pad[1] + kh*k.dil[1]
							if oh < 0 || oh >= out[2] {
								continue
							}
							for kw := range k.k[2] {
								ow := iw*k.stride[2] - k.pad[2] + kw*k.dil[2]
								if ow < 0 || ow >= out[3] {
									continue
								}
								yb := (((n*out[1]+od)*out[2]+oh)*out[3] + ow) * co
								wb := ((kd*k.k[1]+kh)*k.k[2] + kw) * co * ci
								for c := range ci {
									v := x[xb+c]
									for oc := range co {
										y[yb+oc] += v * k.w[wb+oc*ci+c]
									}
								}
							}
						}
					}
				}
			}
		}
	}
	for i := range y {
		v := y[i]
		if k.bias != nil {
			v += k.bias[i%co]
		}
		y[i] = min(max(v, k.lo), k.hi)
	}
	return nil
}

func prepareConv3DTranspose(p *prep) (Kernel, error) {
	st, w, x, b, y := p.in(0), p.in(1), p.in(2), p.in(3), p.out(0)
	if x.DType != graph.Float32 || w.DType != graph.Float32 || y.DType != graph.Float32 || (b != nil && b.DType != graph.Float32) {
		return nil, p.unsupported("CONV_3D_TRANSPOSE is float32 in TFLite's builtin kernels")
	}
	o, ok := p.op.Options.(*graph.Conv3DOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", p.op.Kind)
	}
	if s := tensorInts(st); s != nil && !equalInts(s, y.Shape) {
		return nil, fmt.Errorf("%s: output_shape %v, output %q planned %v: %w", p.op.Kind, s, y.Name, y.Shape, graph.ErrShape)
	}
	if err := graph.Conv3DTransposeCheck(y.Shape, w.Shape, x.Shape, o); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	if !w.IsConst() {
		return nil, p.unsupported("the filter must be constant")
	}
	k := &conv3DTransposeKernel{conv3DKernel{w: w.Float32s()}}
	copy(k.in[:], x.Shape)
	copy(k.out[:], y.Shape)
	copy(k.k[:], w.Shape[:3])
	k.stride = [3]int{o.StrideD, o.StrideH, o.StrideW}
	k.dil = [3]int{o.DilationD, o.DilationH, o.DilationW}
	if o.Padding == graph.PaddingSame {
		for d := range 3 {
			eff := (k.k[d]-1)*k.dil[d] + 1
			k.pad[d] = max((k.in[d+1]-1)*k.stride[d]+eff-k.out[d+1], 0) / 2
		}
	}
	if b != nil {
		if !b.IsConst() || b.NumElements() != w.Shape[3] {
			return nil, fmt.Errorf("%s: bias %q must be a constant of %d values: %w", p.op.Kind, b.Name, w.Shape[3], graph.ErrShape)
		}
		k.bias = b.Float32s()
	}
	var err error
	if k.lo, k.hi, err = ActivationRangeFloat(o.Activation); err != nil {
		return nil, err
	}
	return k, nil
}
