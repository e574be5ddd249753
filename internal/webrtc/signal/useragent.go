package signal

import (
	"regexp"
	"strings"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// maxUserAgent bounds the User-Agent bytes parsed (longer ones are cut).
const maxUserAgent = 512

var (
	reEdge    = regexp.MustCompile(`Edg(?:e|A|iOS)?/([\d.]+)`)
	reOpera   = regexp.MustCompile(`OPR/([\d.]+)`)
	reFirefox = regexp.MustCompile(`(?:Firefox|FxiOS)/([\d.]+)`)
	reChrome  = regexp.MustCompile(`(?:Chrome|CriOS|Chromium)/([\d.]+)`)
	reSafari  = regexp.MustCompile(`Version/([\d.]+).*Safari/`)
	reProduct = regexp.MustCompile(`^([A-Za-z][\w.\-]*)/([\w.\-]+)`)
	reWindows = regexp.MustCompile(`Windows NT ([\d.]+)`)
	reMac     = regexp.MustCompile(`Mac OS X ([\d_.]+)`)
	reIOS     = regexp.MustCompile(`(?:iPhone|CPU) OS ([\d_]+)`)
	reAndroid = regexp.MustCompile(`Android ([\d.]+)`)
	reCrOS    = regexp.MustCompile(`CrOS \S+ ([\d.]+)`)
)

// parseUserAgent extracts browser and OS names and versions, the way IVS
// reports them on a participant ("Chrome" "120.0.0.0", "Windows" "10").
// Non-browser clients ("stagecast-loadgen/1.0", "Go-http-client/1.1") are
// reported with their product token as the browser.
func parseUserAgent(ua string) sfu.Client {
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	var c sfu.Client
	for _, b := range []struct {
		name string
		re   *regexp.Regexp
	}{{"Edge", reEdge}, {"Opera", reOpera}, {"Firefox", reFirefox}, {"Chrome", reChrome}, {"Safari", reSafari}} {
		if m := b.re.FindStringSubmatch(ua); m != nil {
			c.BrowserName, c.BrowserVersion = b.name, m[1]
			break
		}
	}
	if c.BrowserName == "" {
		if m := reProduct.FindStringSubmatch(ua); m != nil && m[1] != "Mozilla" {
			c.BrowserName, c.BrowserVersion = m[1], m[2]
		}
	}
	switch {
	case strings.Contains(ua, "Windows"):
		c.OSName = "Windows"
		if m := reWindows.FindStringSubmatch(ua); m != nil {
			c.OSVersion = map[string]string{"10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7"}[m[1]]
			if c.OSVersion == "" {
				c.OSVersion = m[1]
			}
		}
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		c.OSName = "iOS"
		if m := reIOS.FindStringSubmatch(ua); m != nil {
			c.OSVersion = strings.ReplaceAll(m[1], "_", ".")
		}
	case strings.Contains(ua, "Mac OS X"):
		c.OSName = "macOS"
		if m := reMac.FindStringSubmatch(ua); m != nil {
			c.OSVersion = strings.ReplaceAll(m[1], "_", ".")
		}
	case strings.Contains(ua, "Android"):
		c.OSName = "Android"
		if m := reAndroid.FindStringSubmatch(ua); m != nil {
			c.OSVersion = m[1]
		}
	case strings.Contains(ua, "CrOS"):
		c.OSName = "Chrome OS"
		if m := reCrOS.FindStringSubmatch(ua); m != nil {
			c.OSVersion = m[1]
		}
	case strings.Contains(ua, "Linux"):
		c.OSName = "Linux"
	}
	return c
}
