package conformance

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// FuzzCase mostly breaks the JSON itself; FuzzKernelCaseMutations instead
// keeps the case well formed and mutates what the interpreter sees: shapes
// (with the data resized to match, so the case gets past the count
// checks), dtypes, quantization parameters, options and extreme values.
// Any such case must come back as a Result — passing or with a reason —
// never a panic, a hang or a huge allocation in KernelGraph, the
// interpreter or the kernels. The bytes are read as (action, target,
// value) triples applied to reference case pick % len(cases).
func FuzzKernelCaseMutations(f *testing.F) {
	cases := kernelCaseTexts()
	f.Add(uint16(0), []byte{})
	f.Add(uint16(1), []byte{0, 0, 0, 0, 1, 9})
	f.Add(uint16(2), []byte{1, 0, 3, 2, 1, 2})
	f.Add(uint16(3), []byte{3, 0, 1, 3, 1, 4})
	f.Add(uint16(5), []byte{4, 0, 7, 5, 2, 0})
	f.Add(uint16(7), []byte{0, 1, 200, 3, 2, 2, 6, 0, 0})
	f.Fuzz(func(t *testing.T, pick uint16, muts []byte) {
		c, err := ParseCase(cases[int(pick)%len(cases)], "case.json")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+2 < len(muts) && i < 3*16; i += 3 {
			mutate(c, muts[i], muts[i+1], muts[i+2])
		}
		if r := RunCase(c, "", "case.json"); !r.Pass && r.Reason == "" {
			t.Fatal("failed case without a reason")
		}
	})
}

// kernelCaseTexts returns the reference kernel cases (when ../shared is
// present) or a few built-in ones.
func kernelCaseTexts() [][]byte {
	out := [][]byte{
		[]byte(`{"format":"tflm-ref-case/v1","kind":"kernel","name":"conv","op":"CONV_2D","options":{"padding":"SAME","stride_w":1,"stride_h":1,"fused_activation_function":"RELU"},"inputs":[{"name":"input","dtype":"int8","shape":[1,3,3,1],"quantization":{"scale":[0.5],"zero_point":[-1]},"data":[1,2,3,4,5,6,7,8,9]},{"name":"filter","dtype":"int8","shape":[2,2,2,1],"quantization":{"scale":[0.25,0.5],"zero_point":[0,0],"quantized_dimension":0},"data":[1,-1,2,-2,3,-3,4,-4]},{"name":"bias","dtype":"int32","shape":[2],"quantization":{"scale":[0.125,0.25],"zero_point":[0,0]},"data":[10,-10]}],"outputs":[{"name":"output","dtype":"int8","shape":[1,3,3,2],"quantization":{"scale":[1],"zero_point":[0]},"compare":"raw","expected":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}`),
		[]byte(`{"format":"tflm-ref-case/v1","kind":"kernel","name":"fc","op":"FULLY_CONNECTED","options":{},"inputs":[{"name":"input","dtype":"float32","shape":[1,4],"data":[1,2,3,4]},{"name":"weights","dtype":"float32","shape":[2,4],"data":[1,0,0,0,0,1,0,0]},{"name":"bias","dtype":"float32","shape":[2],"data":[0.5,-0.5]}],"outputs":[{"name":"output","dtype":"float32","shape":[1,2],"compare":"raw","expected":[1.5,1.5],"tolerance":0}]}`),
		[]byte(`{"format":"tflm-ref-case/v1","kind":"kernel","name":"pool","op":"MAX_POOL_2D","options":{"padding":"VALID","stride_w":2,"stride_h":2,"filter_width":2,"filter_height":2},"inputs":[{"name":"input","dtype":"float32","shape":[1,2,2,1],"data":[1,2,3,4]}],"outputs":[{"name":"output","dtype":"float32","shape":[1,1,1,1],"compare":"raw","expected":[4],"tolerance":0}]}`),
	}
	shared, err := testshared.Find()
	if err != nil {
		return out
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "reference", "tflite-micro", "kernels", "*", "*.json"))
	sort.Strings(paths)
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			out = append(out, b)
		}
	}
	return out
}

var (
	dtypes     = []string{"float32", "int8", "uint8", "int16", "int32", "int64", "bool", "int4"}
	scales     = []float64{0, -1, 1e-40, 1e-12, 1e38, math.Inf(1), 1, 0.5}
	zeroPoints = []int64{-128, 127, 0, 300, -1 << 20, 1 << 40}
	optValues  = []string{`0`, `-1`, `1`, `2`, `7`, `100`, `2147483647`, `-2147483648`, `"VALID"`, `"SAME"`, `"RELU6"`, `"TANH"`, `true`, `[1,-1]`, `[0]`, `1e300`, `null`}
	extremes   = []string{"0", "-1", "127", "-128", "32767", "-32768", "2147483647", "-2147483648", "nan", "inf", "-inf", "1e38", "-3.5e38"}
)

// mutate applies one (action, target, value) mutation to c.
func mutate(c *Case, action, target, value byte) {
	specs := make([]*TensorSpec, 0, len(c.Inputs)+len(c.Outputs))
	for i := range c.Inputs {
		specs = append(specs, &c.Inputs[i])
	}
	for i := range c.Outputs {
		specs = append(specs, &c.Outputs[i])
	}
	if len(specs) == 0 {
		return
	}
	s := specs[int(target)%len(specs)]
	switch action % 8 {
	case 0: // one dimension to 0..15, data resized to match
		if len(s.Shape) > 0 {
			s.Shape[int(value>>4)%len(s.Shape)] = int(value & 15)
			resize(s)
		}
	case 1: // add or drop a dimension
		if value&1 == 0 && len(s.Shape) > 0 {
			s.Shape = s.Shape[:len(s.Shape)-1]
		} else {
			s.Shape = append(s.Shape, 1+int(value>>1)%3)
		}
		resize(s)
	case 2: // dtype
		s.DType = dtypes[int(value)%len(dtypes)]
	case 3: // quantization scale
		if s.Quantization == nil {
			s.Quantization = &QuantSpec{Scale: []float64{1}, ZeroPoint: []int64{0}}
		}
		q := s.Quantization
		if len(q.Scale) > 0 {
			q.Scale[int(value>>4)%len(q.Scale)] = scales[int(value&15)%len(scales)]
		}
	case 4: // zero point, or the quantized dimension
		if q := s.Quantization; q != nil {
			if value&1 == 1 {
				q.Axis = int(value>>1)%6 - 1
			} else if len(q.ZeroPoint) > 0 {
				q.ZeroPoint[int(value>>4)%len(q.ZeroPoint)] = zeroPoints[int(value>>1)%len(zeroPoints)]
			}
		}
	case 5: // an option
		keys := []string{"padding", "stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor", "depth_multiplier",
			"fused_activation_function", "filter_width", "filter_height", "keep_num_dims", "beta", "new_shape", "axis", "keep_dims", "alpha"}
		if c.Options == nil {
			c.Options = map[string]json.RawMessage{}
		}
		c.Options[keys[int(target)%len(keys)]] = json.RawMessage(optValues[int(value)%len(optValues)])
	case 6: // an extreme value in the data
		if len(s.Data) > 0 {
			s.Data[int(value)%len(s.Data)] = extremes[int(value)%len(extremes)]
		}
	case 7: // omit an input, or the op itself
		if value&1 == 0 {
			s.Omitted = !s.Omitted
		} else {
			kinds := []string{"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MEAN", "PAD", "CONCATENATION", "SOFTMAX", "RESHAPE", "AVERAGE_POOL_2D"}
			c.Op = kinds[int(value>>1)%len(kinds)]
		}
	}
}

// resize makes a spec's data and expected values match its shape (cycling
// the existing values, zeros when there are none), so a mutated shape gets
// past the element-count checks and reaches the interpreter.
func resize(s *TensorSpec) {
	n := 1
	for _, d := range s.Shape {
		n *= d
		if n > 1<<16 {
			return // left mismatched: KernelGraph must refuse the count
		}
	}
	fit := func(v Values) Values {
		if v == nil && n > 0 {
			return v
		}
		out := make(Values, n)
		for i := range out {
			if len(v) > 0 {
				out[i] = v[i%len(v)]
			} else {
				out[i] = "0"
			}
		}
		return out
	}
	s.Data = fit(s.Data)
	s.Expected = fit(s.Expected)
	s.Reference = fit(s.Reference)
}

// TestConvHugeDilation is the crasher FuzzKernelCaseMutations found
// (input uint16(0), "\x151\x17"): a 3x3 int8 SAME conv with a 2x2 filter
// and dilation_h_factor 2147483647. The segmented conv path of package
// kernels sizes its padded image from the dilated filter extent
// (segPlan.hp = (outH-1)*strideH + (fH-1)*dilH + 1, kernels/conv_seg.go
// newSegPlan; segWorthwhile bounds only the width), so Run allocates and
// fills hp·wp·inC = (2^31+2)·4·1 int8 ≈ 8.6 GB: 18 s, and the
// fuzz worker died of it. Every tap
// but the centre one reads padding, so the answer is a plain function of
// the input; im2col computes it without the buffer. newSegPlan now
// refuses such geometry, and this test keeps it that way.
func TestConvHugeDilation(t *testing.T) {
	c, err := ParseCase(kernelCaseTexts()[0], "case.json")
	if err != nil {
		t.Fatal(err)
	}
	c.Options["dilation_h_factor"] = json.RawMessage("2147483647")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := RunCase(c, "", "case.json")
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Fatalf("allocated %d bytes for a 9-pixel conv", n)
	}
	if !r.Pass && r.Reason == "" {
		t.Fatal("failed without a reason")
	}
}
