package kernels

import "testing"

func TestDepthwiseConv2DReferenceCases(t *testing.T) { runRefDir(t, "depthwise_conv_2d") }
