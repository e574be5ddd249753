package cmaf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/packager/cmaf/cmaftest"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
)

const testARN = "arn:aws:ivs:us-east-1:123456789012:channel/abcdABCD1234"

// runAll feeds the whole source through a hub and a segmenter as fast as
// possible and returns the rendition after the segmenter finished.
func runAll(t *testing.T, container segstore.Container) *segstore.Rendition {
	t.Helper()
	return runSource(t, source(t), container)
}

func runSource(t *testing.T, src *cmaftest.Source, container segstore.Container) *segstore.Rendition {
	t.Helper()
	store := segstore.New(segstore.Options{PartTarget: 300 * time.Millisecond, SegmentTarget: 2 * time.Second, WindowSegments: 20})
	ch := store.Open(testARN, segstore.Low, container)
	t.Cleanup(ch.Close)
	rd, err := ch.AddRendition("720p30", segstore.RenditionInfo{Tracks: src.Tracks})
	if err != nil {
		t.Fatal(err)
	}
	hub := stream.NewHub(src.Tracks, nil)
	seg, err := New(hub.NewReader("segmenter", len(src.Units)+1), src.Tracks, rd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = seg.Run(context.Background()) })
	if err := src.Feed(context.Background(), hub, 0); err != nil {
		t.Fatal(err)
	}
	hub.Close()
	wg.Wait()
	if runErr != nil {
		t.Fatalf("Run: %v", runErr)
	}
	return rd
}

func TestSegmentsAndPartsDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		container segstore.Container
		ext       string
	}{{"fmp4", segstore.FMP4, ".mp4"}, {"ts", segstore.TS, ".ts"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd := runAll(t, tc.container)
			snap := rd.Snapshot()
			var init []byte
			if tc.container == segstore.FMP4 {
				if len(snap.Inits) != 1 {
					t.Fatalf("inits = %d, want 1", len(snap.Inits))
				}
				init = snap.Inits[0].Data
			}
			if len(snap.Segments) < 2 {
				t.Fatalf("segments = %d, want >= 2 from 6 s of media", len(snap.Segments))
			}
			var total time.Duration
			for i, seg := range snap.Segments {
				if !seg.Complete {
					t.Errorf("segment %d incomplete after the stream ended", seg.MSN)
				}
				if seg.MSN != uint64(i) {
					t.Errorf("segment %d has msn %d", i, seg.MSN)
				}
				if i < len(snap.Segments)-1 && (seg.Duration < 2*time.Second || seg.Duration > 2100*time.Millisecond) {
					t.Errorf("segment %d lasts %s; 1 s GOPs and a 2 s target make 2 s segments", seg.MSN, seg.Duration)
				}
				if !seg.Parts[0].Independent {
					t.Errorf("segment %d does not start with an independent part", seg.MSN)
				}
				for _, p := range seg.Parts {
					if p.Duration > 300*time.Millisecond || p.Duration <= 0 {
						t.Errorf("segment %d part %d lasts %s, want (0, 300ms]", seg.MSN, p.Index, p.Duration)
					}
				}
				total += seg.Duration
				var whole []byte
				whole = append(whole, init...)
				for _, p := range seg.Parts {
					whole = append(whole, p.Data...)
				}
				checkAV(t, probe(t, whole, fmt.Sprintf("seg%d%s", seg.MSN, tc.ext)), fmt.Sprintf("segment %d", seg.MSN))
			}
			if total < 5500*time.Millisecond || total > 6500*time.Millisecond {
				t.Errorf("segments add up to %s, want ~6s", total)
			}
			// Every independent part decodes on its own after the init
			// segment; every other part decodes after the parts before it
			// in its segment: all its frames come out.
			first := snap.Segments[0]
			var prefix []byte
			frames := 0
			for _, p := range first.Parts {
				if tc.container == segstore.TS && p.Index >= 3 {
					break // TS parts are checked as segments; keep the run short
				}
				prefix = append(prefix, p.Data...)
				data := prefix
				if p.Independent && tc.container == segstore.FMP4 {
					data = p.Data
					frames = 0
				}
				frames += countFrames(p.Data, tc.container)
				streams := probe(t, append(append([]byte(nil), init...), data...), fmt.Sprintf("part%d%s", p.Index, tc.ext))
				checkAV(t, streams, fmt.Sprintf("part %d", p.Index))
				for _, st := range streams {
					if st.CodecType == "video" && st.NbReadFrames != fmt.Sprint(frames) && tc.container == segstore.FMP4 {
						t.Errorf("part %d: decoded %s video frames, want %d", p.Index, st.NbReadFrames, frames)
					}
				}
			}
		})
	}
}

func checkAV(t *testing.T, streams []probeStream, what string) {
	t.Helper()
	var video, audio bool
	for _, s := range streams {
		switch s.CodecType {
		case "video":
			video = true
			if s.CodecName != "h264" || s.Width != 1280 || s.Height != 720 || s.NbReadFrames == "0" || s.NbReadFrames == "" {
				t.Errorf("%s: video stream %+v, want h264 1280x720 with frames", what, s)
			}
		case "audio":
			audio = true
			if s.CodecName != "aac" || s.NbReadFrames == "0" || s.NbReadFrames == "" {
				t.Errorf("%s: audio stream %+v, want aac with frames", what, s)
			}
		}
	}
	if !video || !audio {
		t.Errorf("%s: streams %+v, want video and audio", what, streams)
	}
}

// TestMetadataInNextPart drives the segmenter synchronously: metadata
// inserted between two units appears in the next part published, as an
// emsg with the ID3 scheme whose TXXX frame is the payload.
func TestMetadataInNextPart(t *testing.T) {
	t.Parallel()
	for _, container := range []segstore.Container{segstore.FMP4, segstore.TS} {
		t.Run(fmt.Sprint(container), func(t *testing.T) {
			t.Parallel()
			src := source(t)
			s, rd := syncSegmenter(t, src, container, segstore.Options{})
			const payload = `{"question":"q1","answers":["a","b"]}`
			inserted, partsAtInsert := false, 0
			for i, u := range src.Units {
				if err := s.handle(u); err != nil {
					t.Fatal(err)
				}
				if !inserted && i > len(src.Units)/2 {
					if err := s.InsertMetadata(payload); err != nil {
						t.Fatal(err)
					}
					inserted, partsAtInsert = true, countParts(rd.Snapshot())
				}
			}
			var found []int
			n := 0
			for _, seg := range rd.Snapshot().Segments {
				for _, p := range seg.Parts {
					if container == segstore.FMP4 {
						ems, err := FindEmsg(p.Data)
						if err != nil {
							t.Fatalf("part %d: %v", n, err)
						}
						for _, e := range ems {
							if e.Scheme != EmsgSchemeID3 {
								t.Errorf("emsg scheme %q", e.Scheme)
							}
							got, err := ParseID3TXXX(e.Data)
							if err != nil || got != payload {
								t.Errorf("emsg id3 = %q, %v; want %q", got, err, payload)
							}
							found = append(found, n)
						}
					} else if bytes.Contains(p.Data, ID3TXXX(payload)) {
						found = append(found, n)
					}
					n++
				}
			}
			if len(found) != 1 || found[0] != partsAtInsert {
				t.Fatalf("metadata found in parts %v, want only in part %d (the next one)", found, partsAtInsert)
			}
			if container == segstore.TS {
				var whole []byte
				for _, seg := range rd.Snapshot().Segments {
					for _, p := range seg.Parts {
						whole = append(whole, p.Data...)
					}
				}
				hasID3 := false
				for _, st := range probe(t, whole, "meta.ts") {
					hasID3 = hasID3 || st.CodecName == "timed_id3"
				}
				if !hasID3 {
					t.Error("ffprobe sees no timed_id3 stream in the TS output")
				}
			}
		})
	}
}

func countParts(s *segstore.Snapshot) int {
	n := 0
	for _, seg := range s.Segments {
		n += len(seg.Parts)
	}
	return n
}

// TestDiscontinuity: a unit marked Discontinuity with timestamps that
// jump back ends the segment; the next one is flagged and the timeline
// keeps increasing.
func TestDiscontinuity(t *testing.T) {
	t.Parallel()
	src := source(t)
	s, rd := syncSegmenter(t, src, segstore.FMP4, segstore.Options{WindowSegments: 30})
	for pass := range 3 {
		for i, u := range src.Units {
			c := *u
			// Pass 1 is a reconnect (flagged); pass 2 an encoder whose
			// clock restarted without one (timestamps jump back).
			c.Discontinuity = pass == 1 && i == 0
			if err := s.handle(&c); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap := rd.Snapshot()
	disc := 0
	var pdt time.Time
	for _, seg := range snap.Segments {
		if seg.Discontinuity {
			disc++
		}
		if seg.ProgramDateTime.Before(pdt) {
			t.Errorf("segment %d program date time goes backwards", seg.MSN)
		}
		pdt = seg.ProgramDateTime
	}
	if disc != 2 {
		t.Fatalf("%d segments flagged discontinuous, want 2", disc)
	}
}

// TestSmallStepBackKeepsDecodeTimesGrowing: a source whose clock steps
// back 40 ms in the middle of a GOP (under the discontinuity threshold)
// keeps every part's duration positive, adds no discontinuity, and its
// video decode times only grow across the whole rendition, in both
// containers. (Before the fix the frame after the step kept its earlier
// time: a part could end before it started, found by FuzzSegmenter.)
func TestSmallStepBackKeepsDecodeTimesGrowing(t *testing.T) {
	t.Parallel()
	src := source(t)
	for _, tc := range []struct {
		name      string
		container segstore.Container
	}{{"fmp4.mp4", segstore.FMP4}, {"ts.ts", segstore.TS}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, rd := syncSegmenter(t, src, tc.container, segstore.Options{PartTarget: 300 * time.Millisecond, SegmentTarget: 2 * time.Second, WindowSegments: 20})
			videoFrames, stepped := 0, false
			for _, u := range src.Units {
				c := *u
				tr := src.Tracks[0]
				for _, x := range src.Tracks {
					if x.ID == u.Track {
						tr = x
					}
				}
				if tr.Kind == media.Video {
					videoFrames++
					stepped = stepped || videoFrames == 76 // frame 75 is mid-GOP (1 s GOPs at 30 fps)
				}
				if stepped {
					back := media.Ticks(40*time.Millisecond, tr.ClockRate)
					c.DTS, c.PTS = c.DTS-back, c.PTS-back
				}
				if err := s.handle(&c); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.flush(); err != nil {
				t.Fatal(err)
			}
			snap := rd.Snapshot()
			var whole []byte
			if len(snap.Inits) > 0 {
				whole = append(whole, snap.Inits[0].Data...)
			}
			for _, seg := range snap.Segments {
				if seg.Discontinuity {
					t.Errorf("segment %d flagged discontinuous for a 40 ms step", seg.MSN)
				}
				for _, p := range seg.Parts {
					if p.Duration <= 0 {
						t.Errorf("segment %d part %d lasts %s", seg.MSN, p.Index, p.Duration)
					}
					whole = append(whole, p.Data...)
				}
			}
			dts := videoDTS(t, whole, tc.name)
			if len(dts) != videoFrames {
				t.Fatalf("%d video packets in the rendition, want %d", len(dts), videoFrames)
			}
			for i := 1; i < len(dts); i++ {
				if dts[i] <= dts[i-1] {
					t.Fatalf("video packet %d: decode time %d after %d", i, dts[i], dts[i-1])
				}
			}
		})
	}
}

// videoDTS lists the decode timestamps of the video packets in data, in
// file order, as ffprobe reads them.
func videoDTS(t *testing.T, data []byte, name string) []int64 {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts", "-of", "csv=p=0", p).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", name, err)
	}
	var dts []int64
	for _, f := range strings.Fields(string(out)) {
		n, err := strconv.ParseInt(strings.TrimSuffix(f, ","), 10, 64)
		if err != nil {
			t.Fatalf("ffprobe dts %q: %v", f, err)
		}
		dts = append(dts, n)
	}
	return dts
}

func TestNewRejectsUnusableTracks(t *testing.T) {
	t.Parallel()
	store := segstore.New(segstore.Options{})
	ch := store.Open(testARN, segstore.Low, segstore.TS)
	defer ch.Close()
	rd, _ := ch.AddRendition("x", segstore.RenditionInfo{})
	hub := stream.NewHub(nil, nil)
	if _, err := New(hub.NewReader("x", 1), []media.Track{{Kind: media.Video, Codec: media.VP8, ClockRate: 90000}}, rd, Options{}); err == nil {
		t.Error("VP8-only tracks accepted")
	}
	opus := []media.Track{{Kind: media.Audio, Codec: media.Opus, ClockRate: 48000}}
	if _, err := New(hub.NewReader("y", 1), opus, rd, Options{}); err == nil {
		t.Error("Opus accepted for MPEG-TS")
	}
}

// countFrames returns the video sample count of an fMP4 part (trun of
// track 1); for TS it returns 0 (not checked).
func countFrames(part []byte, c segstore.Container) int {
	if c != segstore.FMP4 {
		return 0
	}
	// moof > traf > tfhd(track 1) ... trun sample_count: find the first
	// "trun" box (video comes first in our parts).
	i := bytes.Index(part, []byte("trun"))
	if i < 0 || i+12 > len(part) {
		return 0
	}
	b := part[i+8 : i+12]
	return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
}

// TestH265OpusDecodes: H.265 (with B-frames) and Opus make valid CMAF
// init segments and fragments.
func TestH265OpusDecodes(t *testing.T) {
	t.Parallel()
	source(t) // skips without ffmpeg
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "3",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=30:bframes=2:log-level=error",
		"-c:a", "libopus", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Skipf("ffmpeg without libx265/libopus: %v", err)
	}
	src, err := cmaftest.Demux(out)
	if err != nil {
		t.Fatal(err)
	}
	rd := runSource(t, src, segstore.FMP4)
	snap := rd.Snapshot()
	if len(snap.Segments) < 2 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	bframes := false
	for _, seg := range snap.Segments {
		whole := append([]byte(nil), snap.Inits[0].Data...)
		for _, p := range seg.Parts {
			whole = append(whole, p.Data...)
		}
		var video, audio bool
		for _, st := range probe(t, whole, fmt.Sprintf("hevc%d.mp4", seg.MSN)) {
			ok := st.NbReadFrames != "" && st.NbReadFrames != "0"
			video = video || st.CodecName == "hevc" && st.Width == 640 && st.Height == 360 && ok
			audio = audio || st.CodecName == "opus" && ok
		}
		if !video || !audio {
			t.Errorf("segment %d does not decode as hevc 640x360 + opus", seg.MSN)
		}
	}
	for _, u := range src.Units {
		bframes = bframes || u.PTS != u.DTS
	}
	if !bframes {
		t.Log("source has no B-frames; composition offsets untested")
	}
	if c := rd.Info().Tracks[0]; len(c.SPS) == 0 {
		t.Error("rendition tracks lack the SPS")
	}
}

// TestNextPartIsWhereTheHintPoints: at every moment the part after the
// live edge (what EXT-X-PRELOAD-HINT names: the open segment's next part,
// or part 0 of the next segment once the last one is complete) is the part
// the segmenter publishes next. A segment ends as soon as its last part
// is out, not when the next part arrives.
func TestNextPartIsWhereTheHintPoints(t *testing.T) {
	t.Parallel()
	src := source(t)
	s, rd := syncSegmenter(t, src, segstore.FMP4, segstore.Options{WindowSegments: 30})
	hint := func(snap *segstore.Snapshot) (uint64, int) {
		segs := snap.Segments
		// An open segment without parts is not listed; its first part is next.
		last := segs[len(segs)-1]
		if last.Complete {
			return last.MSN + 1, 0
		}
		return last.MSN, len(last.Parts)
	}
	published := 0
	var wantMSN uint64
	wantIdx := 0
	for _, u := range src.Units {
		if err := s.handle(u); err != nil {
			t.Fatal(err)
		}
		snap := rd.Snapshot()
		if n := countParts(snap); n != published {
			if n != published+1 {
				t.Fatalf("%d parts published at once", n-published)
			}
			if published > 0 && snap.Part(wantMSN, wantIdx) == nil {
				t.Fatalf("hint named part %d.%d, but the next part published is elsewhere", wantMSN, wantIdx)
			}
			published = n
			wantMSN, wantIdx = hint(snap)
		}
	}
	if published < 15 {
		t.Fatalf("only %d parts", published)
	}
}

// TestAudioOnly: a rendition without video (IVS's audio_only) cuts on
// audio frames: parts within the part target, 2 s segments, decodable.
func TestAudioOnly(t *testing.T) {
	t.Parallel()
	full := source(t)
	src := &cmaftest.Source{Tracks: []media.Track{full.Tracks[1]}}
	src.Tracks[0].ID = 0
	for _, u := range full.Units {
		if u.Track == 1 {
			c := *u
			c.Track = 0
			src.Units = append(src.Units, &c)
		}
	}
	rd := runSource(t, src, segstore.FMP4)
	snap := rd.Snapshot()
	if len(snap.Segments) < 2 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	for _, seg := range snap.Segments[:len(snap.Segments)-1] {
		if seg.Duration < 2*time.Second || seg.Duration > 2050*time.Millisecond {
			t.Errorf("segment %d lasts %s", seg.MSN, seg.Duration)
		}
		for _, p := range seg.Parts {
			if p.Duration > 300*time.Millisecond || !p.Independent {
				t.Errorf("segment %d part %d: %s independent=%v", seg.MSN, p.Index, p.Duration, p.Independent)
			}
		}
	}
	whole := append([]byte(nil), snap.Inits[0].Data...)
	for _, p := range snap.Segments[0].Parts {
		whole = append(whole, p.Data...)
	}
	streams := probe(t, whole, "audio.mp4")
	if len(streams) != 1 || streams[0].CodecName != "aac" || streams[0].NbReadFrames == "0" {
		t.Errorf("audio-only segment streams %+v", streams)
	}
}
