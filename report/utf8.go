package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidText returns s unchanged when it is valid UTF-8, and otherwise with
// each byte that is not part of a valid UTF-8 sequence written as \xNN.
// File names on Linux are arbitrary bytes; reports (CSV, JSON, Markdown,
// HTML) must stay valid UTF-8 and still tell such names apart.
func ValidText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}
