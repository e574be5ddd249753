package bidi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultBinary is the Debian package's Firefox (firefox-esr).
const DefaultBinary = "firefox-esr"

const (
	defaultStartTimeout = 60 * time.Second
	// closeTimeout bounds browser.close and the wait for the process to
	// exit by itself before its process group is killed.
	closeTimeout = 5 * time.Second
	// maxOutput is how much of Firefox's stdout/stderr is kept (the tail)
	// for error messages.
	maxOutput = 64 << 10
)

// Options configure Start. The zero value is a headless firefox-esr from
// PATH with the prefs of DefaultPrefs.
type Options struct {
	// Binary is the Firefox executable (name or path; default firefox-esr).
	Binary string
	// Prefs are added to (and override) DefaultPrefs in the profile's
	// user.js.
	Prefs map[string]any
	// StartTimeout bounds the launch and the BiDi session setup (default
	// 60 s: a first start on a busy machine is slow).
	StartTimeout time.Duration
}

// DefaultPrefs returns the prefs every profile gets: quiet automation (no
// first-run pages, updates, telemetry or remote settings), a fake camera
// and microphone granted without a prompt, autoplay, and WebRTC usable on
// loopback (Firefox drops 127.0.0.1 candidates by default and hides host
// addresses behind mDNS names).
func DefaultPrefs() map[string]any {
	return map[string]any{
		"remote.prefs.recommended":                          true,
		"browser.shell.checkDefaultBrowser":                 false,
		"browser.startup.homepage_override.mstone":          "ignore",
		"browser.startup.page":                              0,
		"browser.aboutwelcome.enabled":                      false,
		"startup.homepage_welcome_url":                      "about:blank",
		"startup.homepage_welcome_url.additional":           "",
		"browser.tabs.warnOnClose":                          false,
		"browser.warnOnQuit":                                false,
		"datareporting.policy.dataSubmissionEnabled":        false,
		"datareporting.healthreport.uploadEnabled":          false,
		"toolkit.telemetry.reportingpolicy.firstRun":        false,
		"app.update.disabledForTesting":                     true,
		"app.update.auto":                                   false,
		"app.normandy.enabled":                              false,
		"extensions.update.enabled":                         false,
		"browser.discovery.enabled":                         false,
		"browser.safebrowsing.malware.enabled":              false,
		"browser.safebrowsing.phishing.enabled":             false,
		"network.captive-portal-service.enabled":            false,
		"network.connectivity-service.enabled":              false,
		"services.settings.server":                          "data:,#remote-settings-dummy/v1",
		"media.gmp-manager.updateEnabled":                   false,
		"media.navigator.streams.fake":                      true,
		"media.navigator.permission.disabled":               true,
		"media.autoplay.default":                            0,
		"media.autoplay.blocking_policy":                    0,
		"media.peerconnection.ice.loopback":                 true,
		"media.peerconnection.ice.obfuscate_host_addresses": false,
		// Tabs a test opens behind another keep decoding video.
		"media.suspend-bkgnd-video.enabled": false,
	}
}

// Browser is one running Firefox with an open BiDi session.
type Browser struct {
	t       testing.TB
	dir     string // temp dir: profile/ and nothing else
	cmd     *exec.Cmd
	out     *outputWatcher
	exited  chan struct{} // closed when cmd.Wait returned
	waitErr error         // cmd.Wait's result, set before exited is closed
	conn    *conn

	closeOnce sync.Once
}

// Start launches headless Firefox with a temp profile and opens a BiDi
// session; it skips the test when the binary is not installed and fails it
// when the browser does not start. Everything is stopped at t.Cleanup.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = DefaultBinary
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("Firefox browser tests need %s: %v", bin, err)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	b, err := start(t, path, opts.Prefs, timeout)
	if err != nil {
		t.Fatalf("start firefox: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func start(t testing.TB, path string, prefs map[string]any, timeout time.Duration) (*Browser, error) {
	dir, err := os.MkdirTemp("", "bidi-firefox-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	profile := filepath.Join(dir, "profile")
	all := DefaultPrefs()
	for k, v := range prefs {
		all[k] = v
	}
	if err := writeProfile(profile, all); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	b := &Browser{t: t, dir: dir, out: newOutputWatcher(), exited: make(chan struct{})}
	b.cmd = exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0")
	b.cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER_SHUTDOWN=1")
	b.cmd.Stdout = b.out
	b.cmd.Stderr = b.out
	// Its own process group, so Close can end the content processes too.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Children holding the output pipe must not keep Wait forever.
	b.cmd.WaitDelay = closeTimeout
	if err := b.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("run %s: %w", path, err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.connect(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("%w (firefox output: %s)", err, b.out.tail())
	}
	return b, nil
}

// connect waits for the BiDi address on Firefox's output, opens the socket
// and a session, and subscribes to the log events.
func (b *Browser) connect(ctx context.Context) error {
	var addr string
	select {
	case addr = <-b.out.addr:
	case <-b.exited:
		return fmt.Errorf("firefox exited before listening: %v", b.waitErr)
	case <-ctx.Done():
		return fmt.Errorf("waiting for the webdriver bidi address: %w", ctx.Err())
	}
	c, err := dial(ctx, addr+"/session")
	if err != nil {
		return err
	}
	b.conn = c
	if _, err := c.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}); err != nil {
		return fmt.Errorf("session.new: %w", err)
	}
	if _, err := c.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}); err != nil {
		return fmt.Errorf("subscribe to the log: %w", err)
	}
	return nil
}

// Close ends the session and the browser: browser.close, then (if Firefox
// has not exited within a few seconds) SIGKILL to its process group; it
// waits for the process and the socket reader and removes the profile.
// Start registers it with t.Cleanup; calling it again does nothing.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		if b.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			_, err := b.conn.call(ctx, "browser.close", map[string]any{})
			cancel()
			b.conn.close()
			if err == nil {
				select {
				case <-b.exited:
				case <-time.After(closeTimeout):
				}
			}
		}
		// The whole group: content and GPU processes outlive a killed parent.
		pgid := b.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.exited
		// The others are not our children: wait until the group is gone.
		for deadline := time.Now().Add(closeTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
				break
			}
		}
		if err := os.RemoveAll(b.dir); err != nil {
			b.t.Errorf("remove firefox profile: %v", err)
		}
	})
}

// Output returns the tail of Firefox's stdout and stderr (for a failing
// test's log).
func (b *Browser) Output() string { return b.out.tail() }

// writeProfile creates a profile directory whose user.js sets prefs.
func writeProfile(dir string, prefs map[string]any) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	names := make([]string, 0, len(prefs))
	for k := range prefs {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, k := range names {
		v, err := json.Marshal(prefs[k])
		if err != nil {
			return fmt.Errorf("pref %s: %w", k, err)
		}
		key, _ := json.Marshal(k)
		fmt.Fprintf(&buf, "user_pref(%s, %s);\n", key, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "user.js"), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write user.js: %w", err)
	}
	return nil
}

var listeningRE = regexp.MustCompile(`WebDriver BiDi listening on (ws://[^\s]+)`)

// outputWatcher keeps the tail of Firefox's output and reports the BiDi
// address once it appears. exec's copy goroutine writes to it.
type outputWatcher struct {
	addr chan string // receives the address once

	mu    sync.Mutex
	buf   []byte // guarded by mu: the last maxOutput bytes
	found bool   // guarded by mu
}

func newOutputWatcher() *outputWatcher {
	return &outputWatcher{addr: make(chan string, 1)}
}

func (w *outputWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if !w.found {
		if m := listeningRE.FindSubmatch(w.buf); m != nil {
			w.found = true
			w.addr <- string(m[1])
		}
	}
	if len(w.buf) > maxOutput {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-maxOutput:]...)
	}
	return len(p), nil
}

func (w *outputWatcher) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// errClosed is returned by calls on a closed connection.
var errClosed = errors.New("bidi: connection closed")
