package signal

import (
	"testing"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

func TestParseUserAgent(t *testing.T) {
	cases := []struct {
		ua   string
		want sfu.Client
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36",
			sfu.Client{BrowserName: "Chrome", BrowserVersion: "120.0.6099.71", OSName: "Windows", OSVersion: "10"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
			sfu.Client{BrowserName: "Safari", BrowserVersion: "17.1", OSName: "macOS", OSVersion: "10.15.7"}},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
			sfu.Client{BrowserName: "Firefox", BrowserVersion: "121.0", OSName: "Linux"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
			sfu.Client{BrowserName: "Safari", BrowserVersion: "17.1", OSName: "iOS", OSVersion: "17.1"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.84",
			sfu.Client{BrowserName: "Edge", BrowserVersion: "120.0.2210.84", OSName: "Android", OSVersion: "14"}},
		{"stagecast-loadgen/1.0", sfu.Client{BrowserName: "stagecast-loadgen", BrowserVersion: "1.0"}},
		{"", sfu.Client{}},
	}
	for _, c := range cases {
		if got := parseUserAgent(c.ua); got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.ua, got, c.want)
		}
	}
}

func FuzzParseUserAgent(f *testing.F) {
	f.Add("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")
	f.Add("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Version/17.1 Safari/604.1")
	f.Fuzz(func(t *testing.T, ua string) {
		c := parseUserAgent(ua)
		for _, s := range []string{c.BrowserName, c.BrowserVersion, c.OSName, c.OSVersion} {
			if len(s) > maxUserAgent {
				t.Fatalf("field longer than the parse limit: %d", len(s))
			}
		}
	})
}
