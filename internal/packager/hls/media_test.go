package hls

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/segstore"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// fixture builds a rendition with 4 segments of 2 s (6 parts of 300 ms
// and one of 200 ms), a discontinuity before segment 2, and an open
// segment with 2 parts.
// The epoch is random per channel, so playlists render with a fixed one.
func fixture(t *testing.T, container segstore.Container, end bool) (*segstore.Channel, *segstore.Snapshot) {
	t.Helper()
	s := segstore.New(segstore.Options{WindowSegments: 3})
	ch := s.Open("arn:aws:ivs:us-east-1:123456789012:channel/abcdABCD1234", segstore.Low, container)
	t.Cleanup(ch.Close)
	r, _ := ch.AddRendition("720p30", segstore.RenditionInfo{})
	if container == segstore.FMP4 {
		r.SetInit([]byte("init"))
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for seg := range 4 {
		if seg == 2 {
			r.MarkDiscontinuity()
		}
		r.StartSegment(t0.Add(time.Duration(seg) * 2 * time.Second))
		for i := range 7 {
			d := 300 * time.Millisecond
			if i == 6 {
				d = 200 * time.Millisecond
			}
			r.AddPart(make([]byte, 1000), d, i == 0, 9)
		}
	}
	r.StartSegment(t0.Add(8 * time.Second))
	r.AddPart(make([]byte, 1000), 300*time.Millisecond, true, 9)
	r.AddPart(make([]byte, 1000), 300*time.Millisecond, false, 9)
	if end {
		r.EndSegment()
		ch.Close()
	}
	return ch, r.Snapshot()
}

func TestMediaPlaylists(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		container segstore.Container
		ll, end   bool
		query     string
	}{
		{"ll_fmp4.m3u8", segstore.FMP4, true, false, ""},
		{"ll_fmp4_token.m3u8", segstore.FMP4, true, false, "token=abc"},
		{"ll_fmp4_ended.m3u8", segstore.FMP4, true, true, ""},
		{"plain_fmp4.m3u8", segstore.FMP4, false, false, ""},
		{"plain_ts.m3u8", segstore.TS, false, false, ""},
		{"ll_ts.m3u8", segstore.TS, true, false, ""},
		{"ll_fmp4_reports_token.m3u8", segstore.FMP4, true, false, "token=t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, snap := fixture(t, tc.container, tc.end)
			got := AppendMedia(nil, snap, MediaOptions{
				LowLatency: tc.ll, Container: tc.container, PartTarget: 300 * time.Millisecond,
				SegmentTarget: 2 * time.Second, Epoch: "epoch", Query: tc.query,
				Reports: reports(tc.name),
			})
			golden(t, tc.name, got)
		})
	}
}

func TestMultivariant(t *testing.T) {
	t.Parallel()
	tracks := []media.Track{
		{Kind: media.Video, Codec: media.H264, ClockRate: 90000, SPS: []byte{0x67, 0x64, 0x00, 0x1f}, Width: 1280, Height: 720},
		{Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, AACConfig: []byte{0x11, 0x90}},
	}
	if got := Codecs(tracks); got != "avc1.64001f,mp4a.40.2" {
		t.Errorf("Codecs = %q", got)
	}
	got := AppendMultivariant(nil, []Variant{
		{Name: "720p30", URI: "c/720p30/playlist.m3u8", Bandwidth: 2500000, Codecs: Codecs(tracks), Width: 1280, Height: 720, FrameRate: 30},
		{Name: "audio_only", URI: "c/audio_only/playlist.m3u8", Bandwidth: 160000, Codecs: "mp4a.40.2"},
	})
	golden(t, "multivariant.m3u8", got)
}

// TestOpenSegmentWithoutParts: a segment opened but without parts is not
// listed (no dangling PROGRAM-DATE-TIME); the hint names its first part.
func TestOpenSegmentWithoutParts(t *testing.T) {
	t.Parallel()
	s := segstore.New(segstore.Options{})
	ch := s.Open("arn:aws:ivs:us-east-1:123456789012:channel/abcdABCD1234", segstore.Low, segstore.FMP4)
	defer ch.Close()
	r, _ := ch.AddRendition("x", segstore.RenditionInfo{})
	r.SetInit([]byte("i"))
	r.StartSegment(time.Now())
	r.AddPart([]byte("p"), 300*time.Millisecond, true, 9)
	r.StartSegment(time.Now())
	got := string(AppendMedia(nil, r.Snapshot(), MediaOptions{LowLatency: true, PartTarget: 300 * time.Millisecond, SegmentTarget: 2 * time.Second, Epoch: "e"}))
	if n := strings.Count(got, "#EXT-X-PROGRAM-DATE-TIME"); n != 1 {
		t.Errorf("%d program date times, want 1:\n%s", n, got)
	}
	if !strings.HasSuffix(got, "#EXTINF:0.30000,\nseg-e-0.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-e-1-0.m4s\"\n") {
		t.Errorf("playlist:\n%s", got)
	}
}

func reports(name string) []Report {
	if !strings.Contains(name, "reports") {
		return nil
	}
	return []Report{{URI: "../160p30/playlist.m3u8", LastMSN: 4, LastPart: 1}, {URI: "../audio_only/playlist.m3u8", LastMSN: 4, LastPart: 2}}
}
