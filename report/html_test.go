package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/qbench/qbench/metrics"
)

// gtsrbNames are GTSRB-style class names: long, with spaces and brackets.
func gtsrbNames(k int) []string {
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprintf("Speed limit (%d0km/h) sign %02d", i%13+2, i)
	}
	return names
}

// classReport builds a one-split float/int8 report over k classes from n
// seeded random samples: mostly correct, a few confusions that int8
// changes. It exercises the plots at the sizes users have (43 GTSRB
// classes, 1001 ImageNet classes).
func classReport(t *testing.T, k, n int) *Report {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(k), uint64(n)))
	classes := gtsrbNames(k)
	ma, _ := metrics.NewModel(k, []int{1, 5})
	mb, _ := metrics.NewModel(k, []int{1, 5})
	pr, _ := metrics.NewPair(k)
	pa, pb := make([]float32, k), make([]float32, k)
	for i := range n {
		label := i % k
		pred := label
		if rng.IntN(6) == 0 {
			pred = rng.IntN(k)
		}
		predB := pred
		if rng.IntN(8) == 0 {
			predB = rng.IntN(k)
		}
		fill := func(p []float32, c int, conf float32) {
			for j := range p {
				p[j] = (1 - conf) / float32(k-1)
			}
			p[c] = conf
		}
		// Most samples near certain, a few spread below, as trained
		// classifiers give them.
		u := rng.Float32()
		conf := 1 - 0.65*u*u*u*u
		fill(pa, pred, conf)
		fill(pb, predB, conf*0.98)
		_ = ma.Add(label, pa)
		_ = mb.Add(label, pb)
		_ = pr.Add(label, pa, pb)
	}
	seed := int64(1)
	r := &Report{Schema: Schema, Classes: classes, Settings: DefaultSettings([]int{1, 5}), Seed: &seed, Generator: "qbench test"}
	sp := Split{Name: "val", N: n, Models: []ModelEntry{
		{ModelInfo: ModelInfo{Name: "float", Path: "f.tflite", InputType: "float32", OutputType: "float32"}, ModelResult: ma.Result(classes)},
		{ModelInfo: ModelInfo{Name: "int8", Path: "q.tflite", InputType: "float32", OutputType: "float32", Quantized: true}, ModelResult: mb.Result(classes)},
	}, Pairs: []PairEntry{{A: "float", B: "int8", PairResult: pr.Result(classes)}}}
	r.Splits = []Split{sp}
	r.Models, r.Pairs = sp.Models, sp.Pairs
	return r
}

func writeHTMLString(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// svgs returns the <svg> elements of page whose class attribute holds cls.
func svgs(page, cls string) []string {
	var out []string
	re := regexp.MustCompile(`(?s)<svg class="plot ` + cls + `"[^>]*>.*?</svg>`)
	for _, m := range re.FindAllString(page, -1) {
		out = append(out, m)
	}
	return out
}

var (
	rowLabel = regexp.MustCompile(`<text class="yl cls row"[^>]*><title>([^<]*)</title>[^<]*</text>`)
	colLabel = regexp.MustCompile(`<text class="cls col"[^>]*><title>([^<]*)</title>[^<]*</text>`)
	barRect  = regexp.MustCompile(`<rect class="bar" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"[^>]*><title>[^:]*: (\d+) [a-z]+, ([0-9.e+-]+)%</title>`)
	cntText  = regexp.MustCompile(`<text class="cnt[^"]*"[^>]*>(\d+)</text>`)
)

// TestConfusionMatrixClassNames checks that every class is named beside
// its row and above its column with 3, 30 and 43 classes, and that 1001
// classes give the 60 most confused ones, named, in a page of sane size.
func TestConfusionMatrixClassNames(t *testing.T) {
	for _, k := range []int{3, 30, 43, 1001} {
		r := classReport(t, k, 12*k)
		page := writeHTMLString(t, r)
		conf := svgs(page, "conf")
		delta := svgs(page, "conf delta")
		if len(conf) != 2 || len(delta) != 1 {
			t.Fatalf("%d classes: %d confusion and %d difference matrices, want 2 and 1", k, len(conf), len(delta))
		}
		want := min(k, maxMatrixClasses)
		for _, m := range append(conf, delta...) {
			rows, cols := rowLabel.FindAllStringSubmatch(m, -1), colLabel.FindAllStringSubmatch(m, -1)
			if len(rows) != want || len(cols) != want {
				t.Fatalf("%d classes: %d row and %d column names, want %d", k, len(rows), len(cols), want)
			}
			for i := range rows {
				if rows[i][1] != cols[i][1] {
					t.Errorf("%d classes: row %d is %q, column %d is %q", k, i, rows[i][1], i, cols[i][1])
				}
			}
			if k <= maxMatrixClasses {
				for i, c := range r.Classes {
					if rows[i][1] != esc(c) {
						t.Errorf("%d classes: row %d named %q, want %q", k, i, rows[i][1], c)
					}
				}
			}
		}
		if k > maxMatrixClasses {
			if !strings.Contains(page, fmt.Sprintf("%d of %d classes shown", maxMatrixClasses, k)) {
				t.Errorf("%d classes: the page does not say that classes are left out", k)
			}
			// A class pair confused far more than any other is shown,
			// whatever its index.
			r.Splits[0].Models[0].Confusion[777][3] += 500
			conf = svgs(writeHTMLString(t, r), "conf")
			for _, c := range []int{3, 777} {
				if !strings.Contains(conf[0], "<title>"+esc(r.Classes[c])+"</title>") {
					t.Errorf("the most confused class %d is not shown", c)
				}
			}
			if len(page) > 3<<20 {
				t.Errorf("%d classes: report.html is %d bytes", k, len(page))
			}
		}
	}
}

// TestDifferenceMatrixColours checks the better/worse colouring: more on
// the diagonal and less off it are teal, the opposite red, and a legend
// says so.
func TestDifferenceMatrixColours(t *testing.T) {
	page := writeHTMLString(t, classReport(t, 30, 900))
	d := svgs(page, "conf delta")[0]
	cells := regexp.MustCompile(`<rect [^>]*fill="rgb\((\d+),(\d+),(\d+)\)"><title>[^<]*: ([+-]\d+) under int8 \((better|worse)\)</title>`).FindAllStringSubmatch(d, -1)
	if len(cells) < 5 {
		t.Fatalf("only %d changed cells", len(cells))
	}
	seen := map[string]bool{}
	for _, c := range cells {
		r, _ := strconv.Atoi(c[1])
		g, _ := strconv.Atoi(c[2])
		teal := g > r
		if teal != (c[5] == "better") {
			t.Errorf("cell %s (%s) has colour rgb(%s,%s,%s)", c[4], c[5], c[1], c[2], c[3])
		}
		seen[c[5]] = true
	}
	if !seen["better"] || !seen["worse"] {
		t.Errorf("the fixture should change cells both ways: %v", seen)
	}
	for _, want := range []string{"better for int8: more on the diagonal, fewer off it", "worse for int8: fewer on the diagonal, more off it"} {
		if !strings.Contains(d, want) {
			t.Errorf("legend lacks %q", want)
		}
	}
}

// TestHistogramsLogScaleAndCounts checks that the three histograms of a
// split (certainty, all outputs, per-sample entropy) keep every non-empty
// bin visible — at least 8 px tall beside a bin holding 99% — and print
// each bin's count.
func TestHistogramsLogScaleAndCounts(t *testing.T) {
	ss := []series{
		{"float", []float64{0, 0.0005, 0.001, 0.002, 0.001, 0.001, 0.0015, 0.0025, 0.002, 0.989}, []int64{0, 1, 2, 4, 2, 2, 3, 5, 4, 1978}},
		{"int8", []float64{0, 0.001, 0.0005, 0.002, 0.001, 0.0015, 0.001, 0.002, 0.003, 0.988}, []int64{0, 2, 1, 4, 2, 3, 2, 4, 6, 1976}},
	}
	labels := make([]string, 10)
	for i := range labels {
		labels[i] = binLabel(i)
	}
	svg := groupedBars("Certainty", "samples", labels, ss, true)
	bars := barRect.FindAllStringSubmatch(svg, -1)
	if len(bars) != 20 {
		t.Fatalf("%d bars, want 20", len(bars))
	}
	for _, b := range bars {
		h, _ := strconv.ParseFloat(b[1], 64)
		v, _ := strconv.ParseFloat(b[3], 64)
		if v > 0 && h < 8 {
			t.Errorf("bar of %s%% (%s samples) is %.1f px tall: lost on the scale", b[3], b[2], h)
		}
	}
	var got []string
	for _, c := range cntText.FindAllStringSubmatch(svg, -1) {
		got = append(got, c[1])
	}
	want := "0 0 1 2 2 1 4 4 2 2 2 3 3 2 5 4 4 6 1978 1976"
	if strings.Join(got, " ") != want {
		t.Errorf("count labels %v, want %s", got, want)
	}

	// In a report: three histograms per split, the entropy one included,
	// each with one count per bar.
	r := classReport(t, 43, 43*12)
	page := writeHTMLString(t, r)
	hists := svgs(page, "hist")
	if len(hists) != 3 {
		t.Fatalf("%d histograms, want 3", len(hists))
	}
	if !strings.Contains(hists[2], "Normalised entropy per sample") {
		t.Error("no per-sample entropy histogram")
	}
	for i, h := range hists {
		bars := barRect.FindAllStringSubmatch(h, -1)
		if nc := len(cntText.FindAllString(h, -1)); len(bars) != 20 || nc != 20 {
			t.Errorf("histogram %d: %d bars, %d counts", i, len(bars), nc)
		}
		small := 0
		for _, b := range bars {
			px, _ := strconv.ParseFloat(b[1], 64)
			v, _ := strconv.ParseFloat(b[3], 64)
			if v > 0 && v < 2 {
				small++
			}
			if v > 0 && px < 8 {
				t.Errorf("histogram %d: a bar of %s%% is %.1f px tall", i, b[3], px)
			}
		}
		if small == 0 {
			t.Errorf("histogram %d: the fixture has no small bin to check", i)
		}
	}
	m := r.Splits[0].Models[1]
	var sum int64
	for _, c := range counts(m.EntropyHist, int64(m.N)) {
		sum += c
	}
	if sum != int64(m.N) {
		t.Errorf("entropy counts sum to %d, want %d", sum, m.N)
	}
	// Reliability diagrams print every bin's count.
	for _, rel := range svgs(page, "rel") {
		if n := len(cntText.FindAllString(rel, -1)); n != metrics.ECEBins {
			t.Errorf("reliability diagram has %d counts, want %d", n, metrics.ECEBins)
		}
	}
}

// TestHTMLHeader checks the header: build, date, seed, data, each
// split's model files with size and hash, and the accuracy table across
// splits with the study's numbers beside ours.
func TestHTMLHeader(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	page := writeHTMLString(t, r)
	for _, want := range []string{
		"<th>qbench</th><td>qbench v0.0.0-test</td>",
		"<th>written</th><td>2026-12-06 17:45 UTC</td>",
		"<th>seed</th><td>7</td>",
		"full: 3 images · verification: 1 images",
		"<code>q-verification.tflite</code>", "<code>aaaabbbbcccc</code>", "3.0 MiB", "900.0 KiB",
		"int8 per channel weights (6 ops)",
		"80×80 RGB, bilinear resize, crop roi, pixel v → v·0.00784314 − 1 (0..255 → -1..1)",
		"<th>study (full)</th>", "<td class=\"ref\">99.85%</td>", "<td class=\"ref\">58.14%</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// report.json's top-level models name the file of every split.
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Models []struct {
			BySplit []SplitModel `json:"by_split"`
		} `json:"models"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Models) != 2 || len(doc.Models[1].BySplit) != 2 || doc.Models[1].BySplit[1].Path != "q-verification.tflite" || doc.Models[1].BySplit[0].Path != "q.tflite" {
		t.Errorf("top-level models' by_split: %+v", doc.Models)
	}
	if strings.Contains(string(js), "2026-12-06") {
		t.Error("report.json carries the date")
	}
}
