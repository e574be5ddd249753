// Package bidi drives headless Firefox from tests through WebDriver BiDi
// (the W3C protocol Firefox speaks natively; chromedp drives Chromium only).
//
// Start launches firefox-esr with a fresh profile whose prefs allow a fake
// camera and microphone without a prompt, autoplay, and WebRTC on loopback
// (host candidates on 127.0.0.1, no mDNS names), and connects to its BiDi
// socket. The browser is closed, its process group killed and waited for,
// and the profile removed when the test ends; a test skips when firefox-esr
// is not installed.
//
//	b := bidi.Start(t, bidi.Options{})
//	tab, err := b.NewTab(ctx)
//	err = tab.Navigate(ctx, url)
//	var n int
//	err = tab.Eval(ctx, `document.querySelectorAll("video").length`, &n)
//
// Eval awaits promises and decodes the result (a BiDi remote value) into a
// Go value the way encoding/json would; an exception in the page comes back
// as an *EvalError carrying the page's message. The console and uncaught
// errors of every tab are recorded (Tab.Console) for the test to show when
// it fails.
//
// Goroutines: one reads the socket and one waits for the process; both are
// owned by the Browser and waited for in its Close (run at t.Cleanup).
package bidi
