package testenv

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the variable that overrides the browser binary (default DefaultChromium).
const ChromiumEnv = "CITYPULSE_TEST_CHROMIUM"

// DefaultChromium is Debian's chromium package.
const DefaultChromium = "/usr/bin/chromium"

// The page area of the tab Chromium returns: a 16:9 big screen.
const (
	ViewportWidth  = 1920
	ViewportHeight = 1080
)

// ChromiumTimeout bounds everything a test does in the browser.
const ChromiumTimeout = 2 * time.Minute

// Chromium starts a headless Chromium for the test and returns the context of its first tab, for
// chromedp.Run. The browser runs without sandbox or GPU with a 1920×1080 page area, with a profile and
// TMPDIR in t.TempDir() and Chromium's background networking (updates, sync, QUIC) off, so it
// talks to nothing but the pages the test opens; uncaught page exceptions are logged to the
// test. It is closed when the test ends. Without the binary the test is skipped, or fails when
// CI=true.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		path = DefaultChromium
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s (set %s), and CI=true forbids skipping: %v", path, ChromiumEnv, err)
		}
		t.Skipf("no Chromium at %s (install Debian's chromium or set %s)", path, ChromiumEnv)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), ChromiumTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	var mu sync.Mutex
	open := true
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if open {
			t.Logf("chromium: "+format, args...)
		}
	}
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(logf), chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok && e.ExceptionDetails != nil {
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			logf("page exception at %s:%d: %s", d.URL, d.LineNumber+1, msg)
		}
	}))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		mu.Lock()
		open = false
		mu.Unlock()
	})
	// Start the browser and its first tab, whose page area is then exactly 1920×1080 (the
	// window size includes the browser's own frame).
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(ViewportWidth, ViewportHeight)); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return bctx
}
