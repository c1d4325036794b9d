package tflite

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
)

// Every op in opSpecs survives Write → Read with its kind and options, and
// its TFLite name matches the graph kind's name.
func TestOpSpecsRoundTrip(t *testing.T) {
	for _, s := range opSpecs {
		s := s
		t.Run(s.kind.String(), func(t *testing.T) {
			if s.code != codeCustom && BuiltinName(s.code) != s.kind.String() {
				t.Errorf("code %d is %s, kind is %s", s.code, BuiltinName(s.code), s.kind)
			}
			if s.code == codeCustom && s.custom != s.kind.String() {
				t.Errorf("custom code %q, kind is %s", s.custom, s.kind)
			}
			g := &graph.Graph{}
			nIn := s.ar.minIn
			if nIn == 0 {
				nIn = 1
			}
			if s.ar.maxIn >= 0 && nIn > s.ar.maxIn {
				nIn = s.ar.maxIn
			}
			nOut := s.ar.outs
			if nOut < 0 {
				nOut = 2
			}
			var ins, outs []int
			for i := 0; i < nIn; i++ {
				ins = append(ins, g.AddTensor(&graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 2}}))
			}
			for i := 0; i < nOut; i++ {
				outs = append(outs, g.AddTensor(&graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 2}}))
			}
			g.Inputs, g.Outputs = ins, outs
			var opts any
			if s.read != nil {
				opts = s.read(&opt{})
			}
			switch o := opts.(type) { // schema defaults TFLite would refuse
			case *graph.BlockOptions:
				o.BlockSize = 2
			case *graph.TransposeConvOptions:
				o.StrideW, o.StrideH = 1, 2
			case *graph.Pool2DOptions:
				o.StrideW, o.StrideH, o.FilterW, o.FilterH = 1, 1, 2, 2
			case *graph.CastOptions:
				o.InType, o.OutType = graph.Float32, graph.Int8
			case *graph.SVDFOptions:
				o.Rank = 1
			}
			op := g.AddOp(s.kind, ins, outs, opts)
			if slices.Contains(opcases.LayoutKinds, s.kind) {
				// Layout ops need typed parameter inputs their shape rules
				// accept: a random valid case with its options.
				lg, err := opcases.Layout(s.kind, graph.Float32, rand.New(rand.NewPCG(1, uint64(s.kind))))
				if err != nil {
					t.Fatal(err)
				}
				g, op, opts = lg, lg.Ops[0], lg.Ops[0].Options
			}
			// The image and matrix ops take typed, shaped parameter inputs.
			set := func(i int, dt graph.DType, shape []int, data ...int32) {
				t := g.Tensors[ins[i]]
				t.DType, t.Shape = dt, shape
				if data != nil {
					t.Data = graph.EncodeInt32s(data)
				}
			}
			switch s.kind {
			case graph.OpResizeBilinear, graph.OpResizeNearestNeighbor:
				set(0, graph.Float32, []int{1, 2, 2, 1})
				set(1, graph.Int32, []int{2}, 3, 3)
			case graph.OpTransposeConv:
				set(0, graph.Int32, []int{4}, 1, 4, 4, 2)
				set(1, graph.Float32, []int{2, 3, 3, 1})
				set(2, graph.Float32, []int{1, 2, 2, 1})
			case graph.OpBatchMatMul:
				set(1, graph.Float32, []int{2, 3})
			case graph.OpEmbeddingLookup:
				set(0, graph.Int32, []int{1})
			case graph.OpBroadcastArgs:
				set(0, graph.Int32, []int{2})
				set(1, graph.Int32, []int{1})
			case graph.OpNonMaxSuppressionV4, graph.OpNonMaxSuppressionV5:
				set(0, graph.Float32, []int{3, 4})
				set(1, graph.Float32, []int{3})
				set(2, graph.Int32, []int{}, 2)
			case graph.OpUnique, graph.OpWhere:
				set(0, graph.Float32, []int{3})
			case graph.OpTopKV2:
				set(1, graph.Int32, []int{}, 1)
			case graph.OpSparseToDense:
				set(0, graph.Int32, []int{2, 2}, 0, 1, 1, 0)
				set(1, graph.Int32, []int{2}, 2, 3)
				set(2, graph.Float32, []int{2})
				set(3, graph.Float32, []int{})
			case graph.OpConv3DTranspose:
				set(0, graph.Int32, []int{5}, 1, 3, 5, 3, 4)
				set(1, graph.Float32, []int{1, 2, 2, 4, 2})
				set(2, graph.Float32, []int{1, 3, 3, 3, 2})
				opts = &graph.Conv3DOptions{Padding: graph.PaddingSame, StrideD: 1, StrideH: 2, StrideW: 1, DilationD: 1, DilationH: 1, DilationW: 1}
				op.Options = opts
			case graph.OpConv3D:
				set(0, graph.Float32, []int{1, 3, 3, 3, 2})
				set(1, graph.Float32, []int{1, 2, 2, 2, 4})
				opts = &graph.Conv3DOptions{Padding: graph.PaddingValid, StrideD: 1, StrideH: 2, StrideW: 1, DilationD: 2, DilationH: 1, DilationW: 1, Activation: graph.ActRelu6}
				op.Options = opts
			case graph.OpScatterND:
				set(0, graph.Int32, []int{1, 1}, 0)
				set(1, graph.Float32, []int{1, 2})
				set(2, graph.Int32, []int{2}, 2, 2)
			}
			if s.kind == graph.OpDetectionPostProcess {
				// Boxes, scores and anchors as its shape rule wants them;
				// the options travel as FlexBuffers written from Options.
				opts = detOptions()
				op.Options = opts
				for i, sh := range [][]int{{1, 3, 4}, {1, 3, 3}, {3, 4}} {
					g.Tensors[ins[i]].Shape = sh
				}
			}
			if _, ok := opts.(*graph.Pool2DOptions); ok { // pools take NHWC
				g.Tensors[ins[0]].Shape = []int{1, 2, 2, 1}
			}
			if s.kind == graph.OpUnidirectionalSequenceLSTM { // [batch, time, n_input]
				g.Tensors[ins[0]].Shape = []int{1, 1, 2}
			}
			// Read refuses declared shapes that contradict the op's shape
			// rule, as TFLite does: declare what the rule infers.
			if err := graph.InferShapes(g, nil); err != nil {
				t.Fatalf("%s: the test's inputs do not fit its shape rule: %v", s.kind, err)
			}
			data, err := Write(g)
			if _, flow := opts.(*graph.SubgraphOptions); flow {
				// The graph has no bodies: the writer refuses the dangling
				// subgraph reference, naming it, as the reader does
				// (TestRoundTripSubgraphs writes models with bodies).
				if err == nil || !strings.Contains(err.Error(), "subgraph index 0 out of range") {
					t.Errorf("dangling subgraph reference: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := Read(data)
			if err != nil {
				t.Fatal(err)
			}
			got := back.Ops[0]
			if got.Kind != s.kind || !reflect.DeepEqual(got.Options, opts) {
				t.Errorf("read back %v %#v, want %v %#v", got.Kind, got.Options, s.kind, opts)
			}
			if s.writeCustom != nil {
				op.CustomOptions = s.writeCustom(opts)
			}
			if !reflect.DeepEqual(got.CustomOptions, op.CustomOptions) {
				t.Errorf("custom options %v, want %v", got.CustomOptions, op.CustomOptions)
			}
		})
	}
}
