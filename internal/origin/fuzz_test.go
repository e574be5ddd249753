package origin

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path, rendition, file string
		ok                    bool
	}{
		{PathPrefix + testChan + ".m3u8", "", "", true},
		{PathPrefix + testChan + "/720p30/playlist.m3u8", "720p30", "playlist.m3u8", true},
		{PathPrefix + testChan + "/audio_only/seg-abc-1.m4s", "audio_only", "seg-abc-1.m4s", true},
		{PathPrefix + testChan, "", "", false},
		{PathPrefix + testChan + "/720p30", "", "", false},
		{PathPrefix + testChan + "/720p30/", "", "", false},
		{PathPrefix + testChan + "/7 20/x", "", "", false},
		{PathPrefix + testChan + "/a/b/c", "", "", false},
		{PathPrefix + "us-east-1.12345678901.channel.abc.m3u8", "", "", false},
		{PathPrefix + "us-east-1.123456789012.stage.abc.m3u8", "", "", false},
		{PathPrefix + "US.123456789012.channel.abc.m3u8", "", "", false},
		{"/other/" + testChan + ".m3u8", "", "", false},
		{PathPrefix + strings.Repeat("a", maxPathLen), "", "", false},
	} {
		got, err := parsePath(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("parsePath(%q) err = %v, want ok=%v", tc.path, err, tc.ok)
			continue
		}
		if tc.ok && (got.rendition != tc.rendition || got.file != tc.file || got.channelARN() != testARN) {
			t.Errorf("parsePath(%q) = %+v", tc.path, got)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw   string
		msn   int64
		part  int
		token string
		ok    bool
	}{
		{"", -1, -1, "", true},
		{"_HLS_msn=5", 5, -1, "", true},
		{"_HLS_msn=5&_HLS_part=2&token=a%2Bb", 5, 2, "a+b", true},
		{"token=x&_HLS_skip=YES", -1, -1, "x", true},
		{"_HLS_part=2", -1, -1, "", false},
		{"_HLS_msn=-1", -1, -1, "", false},
		{"_HLS_msn=5&_HLS_part=1001", -1, -1, "", false},
		{"token=%zz", -1, -1, "", false},
		{"token=" + strings.Repeat("a", maxTokenLen+1), -1, -1, "", false},
	} {
		q, err := parseQuery(tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("parseQuery(%q) err = %v, want ok=%v", tc.raw, err, tc.ok)
			continue
		}
		if tc.ok && (q.msn != tc.msn || q.part != tc.part || q.token != tc.token) {
			t.Errorf("parseQuery(%q) = %+v", tc.raw, q)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{PathPrefix + testChan + ".m3u8", PathPrefix + testChan + "/720p30/playlist.m3u8", PathPrefix + testChan + "/x/part-abc-1-2.m4s", PathPrefix + "a.b.c.d/e/f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, err := parsePath(p)
		if err != nil {
			return
		}
		if len(p) > maxPathLen || !strings.HasPrefix(p, PathPrefix) {
			t.Fatalf("accepted %q", p)
		}
		if strings.Contains(tg.rendition, "/") || strings.Contains(tg.file, "/") || strings.Contains(tg.channelID, ".") {
			t.Fatalf("parsePath(%q) = %+v", p, tg)
		}
		if (tg.rendition == "") != (tg.file == "") {
			t.Fatalf("rendition without file: %+v", tg)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "_HLS_msn=1&_HLS_part=2", "token=abc&_HLS_msn=0", "_HLS_part=1", "token=%41&&&="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw)
		if err != nil {
			return
		}
		if q.hasPart && !q.hasMSN || q.part > maxPartIndex || len(q.token) > maxTokenLen || q.msn < -1 {
			t.Fatalf("parseQuery(%q) = %+v", raw, q)
		}
	})
}
