package e2e_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian installs Chromium; the browser tests skip
// when it is absent.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium; tabs opened from it share the process.
type browser struct {
	ctx context.Context // the first tab
}

// newBrowser starts headless Chromium with a fake camera and microphone,
// granted without a prompt, and autoplay allowed. It is stopped when the
// test ends.
//
// The browser tests do not call t.Parallel: each starts its own Chromium,
// and the media ones are CPU-bound (encoding and decoding video in several
// tabs); run side by side on a small machine they starve the media paths
// (ICE consent and timeouts) and measure the machine, not the code.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser tests need %s: %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// Real host candidates instead of mDNS names, which the server
		// would have to resolve.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser, bound to the context it gets: so no
	// timeout here (the allocator has its own for the start).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab is one browser tab and what its console said.
type tab struct {
	name string
	ctx  context.Context

	mu   sync.Mutex
	logs []chromedp.ConsoleMessage // guarded by mu
}

// tab opens a new tab (the first call gets the browser's first tab) whose
// console is recorded until the test ends.
func (b *browser) tab(t *testing.T, name string, first bool) *tab {
	t.Helper()
	ctx := b.ctx
	if !first {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(b.ctx)
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("open tab %s: %v", name, err)
		}
	}
	tb := &tab{name: name, ctx: ctx}
	logCtx, stop := context.WithCancel(ctx)
	messages := chromedp.Console(logCtx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.logs = append(tb.logs, m)
			tb.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		stop()
		wg.Wait()
		if t.Failed() {
			for _, m := range tb.console() {
				t.Logf("%s console: %s (%s:%d)", name, m, m.URL, m.Line)
			}
		}
	})
	return tb
}

// console returns the messages so far.
func (tb *tab) console() []chromedp.ConsoleMessage {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), tb.logs...)
}

// errors returns the console errors and uncaught exceptions so far.
func (tb *tab) errors() []string {
	var out []string
	for _, m := range tb.console() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// run runs actions in the tab with a deadline.
func (tb *tab) run(t *testing.T, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", tb.name, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) in the tab.
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: evaluate %.80q: %v", tb.name, strings.TrimSpace(expr), err)
	}
	return v
}

// poll waits until expr is truthy in the tab and returns its value.
func poll[T any](t *testing.T, tb *tab, timeout time.Duration, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		status, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(document.getElementById("status") || {}).textContent || ""`))
		t.Fatalf("%s: waiting for %s: %v (page status: %q)", tb.name, what, err, status)
	}
	return v
}
