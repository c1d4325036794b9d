package graph

import (
	"fmt"
	"testing"
)

func TestImageShapes(t *testing.T) {
	cases := []struct {
		got  func() ([]int, error)
		want string // shape, or "error"
	}{
		{func() ([]int, error) { return ResizeShape([]int{2, 3, 4, 5}, []int{7, 9}) }, "[2 7 9 5]"},
		{func() ([]int, error) { return ResizeShape([]int{2, 3, 4, 5}, []int{0, 9}) }, "error"},
		{func() ([]int, error) { return ResizeShape([]int{2, 3, 4, 5}, []int{1}) }, "error"},
		{func() ([]int, error) {
			return TransposeConvShape([]int{1, 3, 3, 4}, []int{6, 3, 3, 4}, []int{1, 7, 7, 6})
		}, "[1 7 7 6]"},
		{func() ([]int, error) {
			return TransposeConvShape([]int{1, 3, 3, 4}, []int{6, 3, 3, 4}, []int{1, 7, 7, 5})
		}, "error"},
		{func() ([]int, error) {
			return TransposeConvShape([]int{1, 3, 3, 4}, []int{6, 3, 3, 4}, []int{2, 7, 7, 6})
		}, "error"},
		{func() ([]int, error) {
			return TransposeConvShape([]int{1, 3, 3, 4}, []int{6, 3, 3, 4}, []int{1, 0, 7, 6})
		}, "error"},
		{func() ([]int, error) { return BatchMatMulShape([]int{2, 3, 4}, []int{4, 5}, false, false) }, "[2 3 5]"},
		{func() ([]int, error) { return BatchMatMulShape([]int{2, 1, 3, 4}, []int{7, 5, 4}, false, true) }, "[2 7 3 5]"},
		{func() ([]int, error) { return BatchMatMulShape([]int{4, 3}, []int{4, 5}, true, false) }, "[3 5]"},
		{func() ([]int, error) { return BatchMatMulShape([]int{3, 4}, []int{5, 5}, false, false) }, "error"},
		{func() ([]int, error) { return BatchMatMulShape([]int{2, 3, 4}, []int{3, 4, 5}, false, false) }, "error"},
		{func() ([]int, error) { return BatchMatMulShape([]int{4}, []int{4, 5}, false, false) }, "error"},
		{func() ([]int, error) { return BatchMatMulShape([]int{1, 1, 1, 1, 3, 4}, []int{4, 5}, false, false) }, "error"},
	}
	for i, c := range cases {
		s, err := c.got()
		got := fmt.Sprint(s)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("case %d: %s (%v), want %s", i, got, err, c.want)
		}
	}
}
