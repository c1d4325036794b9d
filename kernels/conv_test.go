package kernels

import "testing"

func TestConv2DReferenceCases(t *testing.T) { runRefDir(t, "conv_2d") }
