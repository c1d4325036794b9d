package kernels

import "testing"

func TestSoftmaxReferenceCases(t *testing.T) { runRefDir(t, "softmax") }
