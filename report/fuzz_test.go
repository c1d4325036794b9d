package report

import "testing"

// FuzzValidateJSON checks that arbitrary bytes never panic the validator.
func FuzzValidateJSON(f *testing.F) {
	f.Add([]byte(`{"schema":"qbench.compare/v1"}`))
	f.Add([]byte(`{"models":[{"n":1e999}],"splits":[[]]}`))
	f.Add([]byte(`[1,2,{"a":null}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ValidateJSON(b)
	})
}
