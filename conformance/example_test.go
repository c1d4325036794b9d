package conformance_test

import (
	"fmt"

	"github.com/qbench/qbench/conformance"
)

// RunDir runs every case under a directory; each Result says why a case
// failed.
func ExampleRunDir() {
	rs, err := conformance.RunDir("../../shared/reference/tflite-micro/kernels/relu")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs.Cases {
		if !r.Pass {
			fmt.Println(r.Name, r.Reason)
		}
	}
	fmt.Printf("%d passed, %d failed\n", rs.Passed, rs.Failed)
}
