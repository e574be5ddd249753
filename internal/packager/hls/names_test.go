package hls

import (
	"strings"
	"testing"

	"github.com/stagecast/stagecast/internal/segstore"
)

func TestNamesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want Name
	}{
		{string(AppendInitName(nil, "abc2", 3)), Name{Kind: KindInit, Epoch: "abc2", Gen: 3}},
		{string(AppendSegmentName(nil, "abc2", 42, segstore.FMP4)), Name{Kind: KindSegment, Epoch: "abc2", MSN: 42}},
		{string(AppendSegmentName(nil, "abc2", 42, segstore.TS)), Name{Kind: KindSegment, Epoch: "abc2", MSN: 42, TS: true}},
		{string(AppendPartName(nil, "abc2", 7, 5, segstore.FMP4)), Name{Kind: KindPart, Epoch: "abc2", MSN: 7, Part: 5}},
	} {
		got, err := ParseName(tc.name)
		if err != nil || got != tc.want {
			t.Errorf("ParseName(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "seg-abc-1.mp4", "init-abc-1.m4s", "seg-ABC-1.m4s", "seg-abc-01.m4s", "seg-abc-+1.m4s",
		"part-abc-1.m4s", "part-abc-1-2-3.m4s", "seg-abc-1.m3u8", "seg--1.m4s", "part-abc-1-1048576.m4s",
		"seg-abc-18446744073709551616.m4s", "seg-" + strings.Repeat("a", 17) + "-1.m4s"} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"init-abc-0.mp4", "seg-abc-1.m4s", "part-abc-1-2.ts", "part-x-0-0.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			return
		}
		var again []byte
		c := segstore.FMP4
		if n.TS {
			c = segstore.TS
		}
		switch n.Kind {
		case KindInit:
			again = AppendInitName(nil, n.Epoch, n.Gen)
		case KindSegment:
			again = AppendSegmentName(nil, n.Epoch, n.MSN, c)
		case KindPart:
			again = AppendPartName(nil, n.Epoch, n.MSN, n.Part, c)
		}
		if string(again) != s {
			t.Fatalf("ParseName(%q) = %+v renders back as %q", s, n, again)
		}
	})
}
