package recording

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/stream"
)

func TestKeyPrefixFollowsIVS(t *testing.T) {
	t.Parallel()
	got := KeyPrefix("123456789012", "AsXego4U6tnj", time.Date(2020, 6, 23, 20, 12, 5, 0, time.UTC), "j8Z9O91ndcVs")
	if want := "ivs/v1/123456789012/AsXego4U6tnj/2020/6/23/20/12/j8Z9O91ndcVs"; got != want {
		t.Fatalf("%s, want %s (the IVS documentation's example)", got, want)
	}
	// The time is UTC whatever the zone of the clock.
	cet := time.FixedZone("CET", 3600)
	if got := KeyPrefix("1", "c", time.Date(2021, 1, 1, 0, 30, 0, 0, cet), "r"); got != "ivs/v1/1/c/2020/12/31/23/30/r" {
		t.Fatalf("%s", got)
	}
}

func TestMediaPlaylistRendering(t *testing.T) {
	t.Parallel()
	p := &mediaPlaylist{target: 2 * time.Second}
	p.add("0.ts", &segment{data: make([]byte, 1000), duration: 2 * time.Second})
	p.add("1.ts", &segment{data: make([]byte, 1000), duration: 2500 * time.Millisecond})
	p.add("2.ts", &segment{data: make([]byte, 1000), duration: 3600 * time.Millisecond, discontinuity: true})
	live := string(p.render())
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n" +
		"#EXTINF:2.000,\n0.ts\n#EXTINF:2.500,\n1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.600,\n2.ts\n"
	if live != want {
		t.Fatalf("live playlist:\n%s\nwant:\n%s", live, want)
	}
	p.ended = true
	ended := string(p.render())
	if !strings.HasSuffix(ended, "2.ts\n#EXT-X-ENDLIST\n") || !strings.Contains(ended, "#EXT-X-PLAYLIST-TYPE:VOD\n") {
		t.Fatalf("ended playlist:\n%s", ended)
	}
	m := string(renderMaster([]variant{{path: "720p30", width: 1280, height: 720, bandwidth: 3000000, codecs: "avc1.64001f,mp4a.40.2"}, {path: "160p30"}}))
	if !strings.Contains(m, "#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n720p30/playlist.m3u8\n") ||
		!strings.Contains(m, "#EXT-X-STREAM-INF:BANDWIDTH=1\n160p30/playlist.m3u8\n") {
		t.Fatalf("master:\n%s", m)
	}
}

func TestPlanStreamSelectsRenditionsAndThumbnails(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub(nil, nil)
	ladder := []Rendition{{Name: "1080p60", Height: 1080, Hub: hub}, {Name: "720p60", Height: 720, Hub: hub},
		{Name: "720p30", Height: 720, Hub: hub}, {Name: "480p30", Height: 480, Hub: hub}, {Name: "160p30", Height: 160, Hub: hub},
		// Unusable: duplicate name, no hub, names that are not one path element.
		{Name: "480p30", Height: 480, Hub: hub}, {Name: "x", Height: 2000}, {Name: "..", Height: 2000, Hub: hub},
		{Name: "a/b", Height: 2000, Hub: hub}, {Name: "", Height: 2000, Hub: hub}}
	s := func(v string) *string { return &v }
	names := func(rs []Rendition) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	cases := []struct {
		name       string
		sel        string
		classes    []string
		thumb      *ivsapi.ThumbnailConfiguration
		want       []string
		wantThumb  string
		sequential bool
		latest     bool
	}{
		{"all, default thumbnails from the source", "ALL", nil, nil,
			[]string{"1080p60", "720p60", "720p30", "480p30", "160p30"}, "1080p60", true, false},
		{"none records thumbnails only", "NONE", nil, nil, nil, "1080p60", true, false},
		{"custom classes", "CUSTOM", []string{"LOWEST_RESOLUTION", "HD", "SD"}, nil, []string{"720p60", "480p30", "160p30"}, "1080p60", true, false},
		{"custom with a class the ladder lacks", "CUSTOM", []string{"FULL_HD", "FULL_HD"}, nil, []string{"1080p60"}, "1080p60", true, false},
		{"thumbnails disabled", "ALL", nil, &ivsapi.ThumbnailConfiguration{RecordingMode: s("DISABLED")},
			[]string{"1080p60", "720p60", "720p30", "480p30", "160p30"}, "", false, false},
		{"thumbnails at SD, latest only", "NONE", nil, &ivsapi.ThumbnailConfiguration{Resolution: s("SD"), Storage: []string{"LATEST"}},
			nil, "480p30", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := &ivsapi.RecordingConfiguration{RenditionConfiguration: &ivsapi.RenditionConfiguration{RenditionSelection: &c.sel, Renditions: c.classes},
				ThumbnailConfiguration: c.thumb}
			p := planStream(rc, ladder)
			if got := names(p.record); !slices.Equal(got, c.want) {
				t.Errorf("recorded %v, want %v", got, c.want)
			}
			if c.wantThumb == "" {
				if p.thumb != nil {
					t.Errorf("thumbnails from %s, want none", p.thumb.rendition.Name)
				}
				return
			}
			if p.thumb == nil || p.thumb.rendition.Name != c.wantThumb || p.thumb.sequential != c.sequential || p.thumb.latest != c.latest {
				t.Errorf("thumbnails %+v, want %s sequential %v latest %v", p.thumb, c.wantThumb, c.sequential, c.latest)
			}
		})
	}
}

func TestSegmenterCutsAtKeyFramesAfterTarget(t *testing.T) {
	t.Parallel()
	tracks := []media.Track{{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000,
		SPS: []byte{0x67, 0x42, 0xc0, 0x1e}, PPS: []byte{0x68, 0xce}}}
	sg, err := newSegmenter(tracks, 2*time.Second, timelineStart, false)
	if err != nil {
		t.Fatal(err)
	}
	var segs []*segment
	// 10 s at 10 fps with a key frame every 1.5 s; leading non-key frames
	// (before the first key frame) are skipped.
	for i := -3; i < 100; i++ {
		key := i >= 0 && i%15 == 0
		nal := []byte{0x41, 0x9a}
		if key {
			nal = []byte{0x65, 0x88}
		}
		seg, err := sg.push(&media.Unit{Track: 0, PTS: int64(i) * 9000, DTS: int64(i) * 9000, Key: key, NALUs: [][]byte{nal}})
		if err != nil {
			t.Fatal(err)
		}
		if seg != nil {
			segs = append(segs, seg)
		}
	}
	segs = append(segs, sg.flush())
	var durs []time.Duration
	for _, s := range segs {
		durs = append(durs, s.duration)
		if len(s.data)%188 != 0 || s.data[0] != 0x47 {
			t.Errorf("segment is not whole TS packets")
		}
	}
	want := []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, time.Second}
	if !slices.Equal(durs, want) {
		t.Fatalf("segment durations %v, want %v (cut at the first key frame at or after 2 s)", durs, want)
	}
	if end := sg.timelineEnd(); end != timelineStart+100*9000 {
		t.Errorf("timeline end %d, want %d", end, timelineStart+100*9000)
	}
	if _, err := newSegmenter([]media.Track{{Kind: media.Audio, Codec: media.Opus}}, time.Second, 0, false); err == nil {
		t.Error("a stream with nothing recordable was accepted")
	}
}

// TestSegmenterClockJump: a source whose clock leaps 10 hours ahead, then
// steps 2 s back, without a reconnect: the recording's timeline continues
// where it was (no segment spans the leap), each leap starts a segment
// flagged discontinuous at the next key frame, and audio that strays far
// from the video's clock is dropped rather than stretching a segment.
func TestSegmenterClockJump(t *testing.T) {
	t.Parallel()
	push, flush := avSegmenter(t)
	// Three runs of 3 s at 10 fps (key frame every 1 s), each on a
	// different source clock: from 0, from 10 h, and from 10 h + 1 s
	// (2 s back from where the second run ended).
	for _, base := range []int64{0, 10 * 3600 * 90000, 10*3600*90000 + 90000} {
		for i := range int64(30) {
			key := i%10 == 0
			nal := []byte{0x41, 0x9a}
			if key {
				nal = []byte{0x65, 0x88}
			}
			dts := base + i*9000
			push(&media.Unit{Track: 0, DTS: dts, PTS: dts, Key: key, NALUs: [][]byte{nal}})
			push(&media.Unit{Track: 1, DTS: dts * 48000 / 90000, PTS: dts * 48000 / 90000, Key: true, Payload: []byte{0x21, 0x10}})
		}
		// An audio frame 20 s ahead of the video: a stray, dropped.
		push(&media.Unit{Track: 1, DTS: (base + 20*90000) * 48000 / 90000, PTS: (base + 20*90000) * 48000 / 90000, Key: true, Payload: []byte{0x21, 0x10}})
	}
	segs := flush()
	var total time.Duration
	var disc []bool
	for _, s := range segs {
		if s.duration <= 0 || s.duration > 3*time.Second {
			t.Fatalf("segment lasts %s, want (0, 3s]", s.duration)
		}
		total += s.duration
		disc = append(disc, s.discontinuity)
	}
	if want := []bool{false, false, true, false, true, false}; !slices.Equal(disc, want) {
		t.Errorf("discontinuity flags %v, want %v (a new segment at each leap)", disc, want)
	}
	// 9 s of frames, plus the audio frame that ends after the last video
	// frame; the strays would have added 20 s.
	if total < 9*time.Second || total > 9200*time.Millisecond {
		t.Errorf("segments add up to %s, want about 9 s", total)
	}
}

// TestSegmenterVideoPauseKeepsAudio: video that pauses for 6 s while the
// audio goes on is not a clock jump: the audio of the pause is recorded,
// the video resumes on the same timeline, and nothing is flagged.
func TestSegmenterVideoPauseKeepsAudio(t *testing.T) {
	t.Parallel()
	push, flush := avSegmenter(t)
	audioFrames := 0
	for ms := int64(0); ms < 10_000; ms += 20 {
		// Video at 10 fps with a key frame every second, except 2-8 s.
		if (ms < 2000 || ms >= 8000) && ms%100 == 0 {
			nal := []byte{0x41, 0x9a}
			if ms%1000 == 0 {
				nal = []byte{0x65, 0x88}
			}
			push(&media.Unit{Track: 0, DTS: ms * 90, PTS: ms * 90, Key: ms%1000 == 0, NALUs: [][]byte{nal}})
		}
		push(&media.Unit{Track: 1, DTS: ms * 48, PTS: ms * 48, Key: true, Payload: []byte{0x21, 0x10}})
		audioFrames++
	}
	segs := flush()
	var total time.Duration
	var audioPES int
	for _, s := range segs {
		if s.discontinuity {
			t.Errorf("a segment is flagged discontinuous: the clock never jumped")
		}
		total += s.duration
		audioPES += countPESStarts(s.data, 257)
	}
	if total < 9900*time.Millisecond || total > 10100*time.Millisecond {
		t.Errorf("segments add up to %s, want 10 s", total)
	}
	if audioPES != audioFrames {
		t.Errorf("%d audio PES packets recorded, want %d: the pause's audio was lost", audioPES, audioFrames)
	}
}

// countPESStarts counts the TS packets of pid that start a PES packet.
func countPESStarts(ts []byte, pid uint16) int {
	n := 0
	for i := 0; i+188 <= len(ts); i += 188 {
		p := ts[i : i+188]
		if p[0] == 0x47 && p[1]&0x40 != 0 && uint16(p[1]&0x1f)<<8|uint16(p[2]) == pid {
			n++
		}
	}
	return n
}

// avSegmenter is an H.264 + AAC segmenter with a 2 s target: push feeds it
// a unit (failing the test on an error), flush ends the stream and
// returns every segment it finished.
func avSegmenter(t *testing.T) (push func(*media.Unit), flush func() []*segment) {
	t.Helper()
	tracks := []media.Track{
		{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, SPS: []byte{0x67, 0x42, 0xc0, 0x1e}, PPS: []byte{0x68, 0xce}},
		{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, AACConfig: []byte{0x11, 0x90}},
	}
	sg, err := newSegmenter(tracks, 2*time.Second, timelineStart, false)
	if err != nil {
		t.Fatal(err)
	}
	var segs []*segment
	push = func(u *media.Unit) {
		t.Helper()
		seg, err := sg.push(u)
		if err != nil {
			t.Fatal(err)
		}
		if seg != nil {
			segs = append(segs, seg)
		}
	}
	return push, func() []*segment { return append(segs, sg.flush()) }
}
