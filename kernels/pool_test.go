package kernels

import "testing"

func TestMaxPool2DReferenceCases(t *testing.T)     { runRefDir(t, "max_pool_2d") }
func TestAveragePool2DReferenceCases(t *testing.T) { runRefDir(t, "average_pool_2d") }
