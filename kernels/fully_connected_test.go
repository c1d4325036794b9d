package kernels

import "testing"

func TestFullyConnectedReferenceCases(t *testing.T) { runRefDir(t, "fully_connected") }
