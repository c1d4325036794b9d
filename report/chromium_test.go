package report

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
var browserNoise = []string{"update.googleapis.com", "accounts.google.com", "clients2.google.com", ".gvt1.com"}

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
