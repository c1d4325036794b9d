package report

// Helpers for other packages' HTML sections (explain.html) so they share
// report.html's look without copying its stylesheet or palette.

// Stylesheet returns the CSS of report.html: other offline pages embed it
// in a <style> element and use the same classes (svg.plot, .t, .xl, .yl,
// .lg, .g, .ax, .note, .row, td.l/th.l, .bad, .good).
func Stylesheet() string { return css }

// SeriesColor returns the colour report.html gives the i-th model or
// series (the palette repeats after eight).
func SeriesColor(i int) string { return modelColor(i) }

// NiceStep returns the smallest of 1, 2, 2.5 and 5 times a power of ten
// that is ≥ x (x > 0): the axis step report.html's plots use.
func NiceStep(x float64) float64 { return niceStep(x) }
