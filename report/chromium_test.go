package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromiumPath is the Debian package's binary; the test skips without it.
const chromiumPath = "/usr/bin/chromium"

// browserNoise are hosts Chromium itself contacts even with background
// networking disabled (component updater, sign-in); requests to them are
// not made by the page. Everything else reaching the proxy is.
var browserNoise = []string{"update.googleapis.com", "accounts.google.com", "clients2.google.com", ".gvt1.com",
	"optimizationguide-pa.googleapis.com"}

// renderResult is what one headless Chromium run of a page revealed.
type renderResult struct {
	dom      string
	console  []string // console messages of any level
	external []string // request lines that reached the proxy from the page
}

// render loads file in headless Chromium with every network request
// routed to a local recording proxy (which answers nothing), and returns
// the DOM, the console messages (from --enable-logging) and the external
// requests. No DevTools protocol is needed.
func render(t *testing.T, file string) renderResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reqs []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			mu.Lock()
			reqs = append(reqs, strings.TrimSpace(line))
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--proxy-server=127.0.0.1:"+portOf(ln.Addr()),
		"--dump-dom", "file://"+file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	ln.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 2000))
	}
	var res renderResult
	res.dom = stdout.String()
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			res.console = append(res.console, l)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reqs {
		noise := false
		for _, h := range browserNoise {
			noise = noise || strings.Contains(strings.SplitN(r+" ", " ", 3)[1], h)
		}
		if !noise {
			res.external = append(res.external, r)
		}
	}
	return res
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestHTMLInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed (apt-get install chromium): ", err)
	}
	dir := t.TempDir()
	// First prove the detector works: a control page with a console error
	// and an external image must be caught.
	ctrl := filepath.Join(dir, "control.html")
	if err := os.WriteFile(ctrl, []byte(`<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>`+
		`<img src="http://example.invalid/x.png"><script>console.error("control-error")</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := render(t, ctrl)
	if len(c.console) == 0 || !strings.Contains(strings.Join(c.console, "\n"), "control-error") {
		t.Fatalf("detector missed the control page's console error: %q", c.console)
	}
	if len(c.external) == 0 || !strings.Contains(strings.Join(c.external, "\n"), "example.invalid") {
		t.Fatalf("detector missed the control page's external request: %q", c.external)
	}

	r := sampleReport(t, dir)
	out := filepath.Join(dir, "out")
	if err := WriteAll(out, r); err != nil {
		t.Fatal(err)
	}
	res := render(t, filepath.Join(out, FileHTML))
	if len(res.console) > 0 {
		t.Errorf("console messages while rendering report.html:\n%s", strings.Join(res.console, "\n"))
	}
	if len(res.external) > 0 {
		t.Errorf("report.html made external requests:\n%s", strings.Join(res.external, "\n"))
	}
	if !strings.Contains(res.dom, "qbench comparison report") || strings.Count(res.dom, "<svg") < 10 {
		t.Errorf("rendered DOM lacks the report (%d bytes)", len(res.dom))
	}
}

// geometryProbe is appended to a copy of report.html for
// TestHTMLGeometryInChromium (report.html itself has no script): it
// measures the laid-out SVGs and writes what it found as JSON into
// <pre id="geometry">, which --dump-dom returns.
const geometryProbe = `<script>
(function () {
  var out = {overlaps: [], clipped: [], flatBars: [], tiny: [], rows: 0, cols: 0, bars: 0};
  function box(e) { return e.getBoundingClientRect(); }
  // A text's box as a quadrilateral on the page (its local bounding box
  // through its transform), so rotated labels are compared as drawn.
  function quad(e) {
    var b = e.getBBox(), m = e.getScreenCTM();
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]].map(function (p) {
      var q = new DOMPoint(p[0], p[1]).matrixTransform(m);
      return [q.x, q.y];
    });
  }
  // Separating-axis test of two convex quadrilaterals: they overlap when
  // no edge normal separates them by more than -1.5 px (glyph boxes
  // include the font's line gap, so touching boxes are fine).
  function hit(a, b) {
    var quads = [a, b];
    for (var k = 0; k < 2; k++) {
      var q = quads[k];
      for (var i = 0; i < 4; i++) {
        var p1 = q[i], p2 = q[(i + 1) % 4];
        var nx = p2[1] - p1[1], ny = p1[0] - p2[0], len = Math.hypot(nx, ny);
        if (len === 0) continue;
        nx /= len; ny /= len;
        var amin = Infinity, amax = -Infinity, bmin = Infinity, bmax = -Infinity;
        a.forEach(function (p) { var d = p[0] * nx + p[1] * ny; amin = Math.min(amin, d); amax = Math.max(amax, d); });
        b.forEach(function (p) { var d = p[0] * nx + p[1] * ny; bmin = Math.min(bmin, d); bmax = Math.max(bmax, d); });
        if (Math.min(amax, bmax) - Math.max(amin, bmin) < 1.5) return false;
      }
    }
    return true;
  }
  function label(e) { return (e.textContent || "").slice(0, 40); }
  document.querySelectorAll("svg.plot").forEach(function (svg, si) {
    var sb = box(svg);
    var texts = Array.prototype.slice.call(svg.querySelectorAll("text"));
    var boxes = texts.map(box), quads = texts.map(quad);
    for (var i = 0; i < texts.length; i++) {
      var b = boxes[i];
      if (b.width === 0) continue;
      if (b.left < sb.left - 1 || b.right > sb.right + 1 || b.top < sb.top - 1 || b.bottom > sb.bottom + 1) {
        out.clipped.push(svg.getAttribute("aria-label") + ": " + label(texts[i]));
      }
      for (var j = i + 1; j < texts.length; j++) {
        if (boxes[j].width > 0 && hit(quads[i], quads[j])) {
          out.overlaps.push(svg.getAttribute("aria-label") + ": '" + label(texts[i]) + "' and '" + label(texts[j]) + "'");
        }
      }
    }
    svg.querySelectorAll("text").forEach(function (e) {
      if (parseFloat(getComputedStyle(e).fontSize) < 8) out.tiny.push(svg.getAttribute("aria-label") + ": " + label(e));
    });
    out.rows += svg.querySelectorAll("text.row").length;
    out.cols += svg.querySelectorAll("text.col").length;
    svg.querySelectorAll("rect.bar").forEach(function (r) {
      out.bars++;
      var m = /([0-9.e+-]+)%$/.exec(r.querySelector("title").textContent);
      if (m && parseFloat(m[1]) > 0 && box(r).height < 2) {
        out.flatBars.push(svg.getAttribute("aria-label") + ": " + r.querySelector("title").textContent);
      }
    });
  });
  var pre = document.createElement("pre");
  pre.id = "geometry";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

// geometry is what geometryProbe reports.
type geometry struct {
	Overlaps, Clipped, FlatBars []string
	Tiny                        []string // labels under 8 px
	Rows, Cols, Bars            int
}

// screenshot renders file at 1280 px width into png.
func screenshot(t *testing.T, file, png string, height int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-background-networking", "--user-data-dir="+t.TempDir(),
		fmt.Sprintf("--window-size=1280,%d", height), "--screenshot="+png, "file://"+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium screenshot: %v\n%s", err, tail(string(out), 2000))
	}
}

// TestHTMLGeometryInChromium lays out report.html in Chromium for 3
// classes (two splits, per-split models), 30 classes (the study) and 43
// (GTSRB) and checks what a reader would see: no two labels of a plot
// overlap, none sticks out of its plot, every class is named on both
// axes of every confusion matrix, no label is smaller than 8 px, and no
// non-empty histogram bin renders flat. With QBENCH_SHOTS=DIR it also saves full-page screenshots there
// (they are checked by eye; the test checks they are not blank).
func TestHTMLGeometryInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed (apt-get install chromium): ", err)
	}
	dir := t.TempDir()
	shots := os.Getenv("QBENCH_SHOTS")
	cases := []struct {
		name    string
		r       *Report
		classes int
	}{
		{"sample3", sampleReport(t, dir), 3},
		{"study30", classReport(t, 30, 30*40), 30},
		{"gtsrb43", classReport(t, 43, 43*12), 43},
		{"imagenet1001", classReport(t, 1001, 1001*4), maxMatrixClasses}, // the most confused 60
	}
	for _, c := range cases {
		page := filepath.Join(dir, c.name+".html")
		var b bytes.Buffer
		if err := WriteHTML(&b, c.r); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		probe := filepath.Join(dir, c.name+"-probe.html")
		html := strings.Replace(b.String(), "</body>", geometryProbe+"</body>", 1)
		if err := os.WriteFile(probe, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
		res := render(t, probe)
		m := regexp.MustCompile(`(?s)<pre id="geometry">(.*?)</pre>`).FindStringSubmatch(res.dom)
		if m == nil {
			t.Fatalf("%s: the probe wrote nothing; console: %q", c.name, res.console)
		}
		var g geometry
		if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(m[1])), &g); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, m[1])
		}
		for _, o := range g.Overlaps {
			t.Errorf("%s: overlapping labels: %s", c.name, o)
		}
		for _, o := range g.Clipped {
			t.Errorf("%s: label outside its plot: %s", c.name, o)
		}
		for _, o := range g.Tiny {
			t.Errorf("%s: label too small to read: %s", c.name, o)
		}
		for _, o := range g.FlatBars {
			t.Errorf("%s: a non-empty bin renders flat: %s", c.name, o)
		}
		// Per split: float, int8 and their difference, each naming every
		// class beside its row and above its column.
		want := 3 * c.classes * len(c.r.Splits)
		if g.Rows != want || g.Cols != want {
			t.Errorf("%s: %d row and %d column class names rendered, want %d", c.name, g.Rows, g.Cols, want)
		}
		if g.Bars != 3*20*len(c.r.Splits) {
			t.Errorf("%s: %d histogram bars rendered, want %d", c.name, g.Bars, 3*20*len(c.r.Splits))
		}
		if shots != "" {
			png := filepath.Join(shots, "report-"+c.name+".png")
			screenshot(t, page, png, 2600+40*c.classes)
			checkNotBlank(t, png)
		}
	}
}

// checkNotBlank fails when a screenshot has fewer than 16 colours.
func checkNotBlank(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 16; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 5 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r, g, bl}] = true
		}
	}
	if len(seen) < 16 {
		t.Errorf("%s looks blank (%d colours)", path, len(seen))
	}
}
