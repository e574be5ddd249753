package recording

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

var prefixRE = regexp.MustCompile(`^ivs/v1/123456789012/AsXego4U6tnj/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}/[A-Za-z0-9]{12}$`)

// renditions generates secs seconds at each size and returns hubs and the
// units to feed them.
func makeRenditions(t *testing.T, secs int, sizes ...[2]int) ([]Rendition, [][]*media.Unit) {
	t.Helper()
	var rs []Rendition
	var us [][]*media.Unit
	for _, s := range sizes {
		tracks, units := demux(t, genTS(t, s[0], s[1], secs))
		rs = append(rs, Rendition{Name: renditionName(s[1]), Width: s[0], Height: s[1], Hub: stream.NewHub(tracks, nil)})
		us = append(us, units)
	}
	return rs, us
}

func renditionName(h int) string { return strconv.Itoa(h) + "p30" }

// feedAll feeds every rendition concurrently and waits.
func feedAll(t *testing.T, rs []Rendition, us [][]*media.Unit, speed float64, shift time.Duration) {
	t.Helper()
	done := make(chan struct{}, len(rs))
	for i := range rs {
		go func() {
			feed(context.Background(), rs[i].Hub, us[i], speed, shift)
			done <- struct{}{}
		}()
	}
	for range rs {
		<-done
	}
}

func readJSON(t *testing.T, file string) Metadata {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var md Metadata
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&md); err != nil {
		t.Fatalf("%s: %v\n%s", file, err, b)
	}
	return md
}

// recordingPrefixes lists the recording prefixes in a local bucket.
func recordingPrefixes(t *testing.T, st objstore.Store) []string {
	t.Helper()
	keys, err := st.List(context.Background(), testBucket, "ivs/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if i := strings.Index(k, "/events/"); i > 0 && !slices.Contains(out, k[:i]) {
			out = append(out, k[:i])
		}
		if i := strings.Index(k, "/media/"); i > 0 && !slices.Contains(out, k[:i]) {
			out = append(out, k[:i])
		}
	}
	return out
}

// checkRendition verifies one rendition's playlist and segments in a local
// directory: every listed segment exists and decodes, and the playlist
// decodes as a whole. It returns the playlist and the frames decoded.
func checkRendition(t *testing.T, dir string, w, h int) (parsedPlaylist, probeResult) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "playlist.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	pl := parsePlaylist(t, b)
	if len(pl.Segments) == 0 {
		t.Fatalf("%s: playlist lists no segment", dir)
	}
	var sum probeResult
	for _, s := range pl.Segments {
		p := probe(t, filepath.Join(dir, s))
		if p.VideoFrames == 0 || p.AudioFrames == 0 {
			t.Errorf("%s/%s: decoded %d video and %d audio frames", dir, s, p.VideoFrames, p.AudioFrames)
		}
		if p.Width != w || p.Height != h {
			t.Errorf("%s/%s: %dx%d, want %dx%d", dir, s, p.Width, p.Height, w, h)
		}
		sum.VideoFrames += p.VideoFrames
		sum.AudioFrames += p.AudioFrames
	}
	whole := probe(t, filepath.Join(dir, "playlist.m3u8"))
	if whole.VideoFrames != sum.VideoFrames {
		t.Errorf("%s: playlist decodes %d video frames, its segments %d", dir, whole.VideoFrames, sum.VideoFrames)
	}
	return pl, whole
}

func TestLocalRecordingWritesIVSLayout(t *testing.T) {
	t.Parallel()
	rs, us := makeRenditions(t, 7, [2]int{320, 240}, [2]int{160, 120})
	dir := t.TempDir()
	store := objstore.NewLocal(dir)
	pub := &fakePublisher{}
	m := NewManager(Config{Store: store, SegmentDuration: 2 * time.Second, Thumbnailer: fakeThumbnailer{}}, pub, nil)
	prefix, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, ChannelName: "demo", StreamID: "st-first",
		RecordingConfig: recordingConfig(0, true), Renditions: rs})
	if err != nil {
		t.Fatal(err)
	}
	if !prefixRE.MatchString(prefix) {
		t.Fatalf("prefix %q does not have the IVS layout", prefix)
	}
	feedAll(t, rs, us, 4, 0)
	m.StreamEnded(testChannel, "st-first")
	m.Close()

	root := filepath.Join(dir, testBucket, filepath.FromSlash(prefix))
	if d := os.Getenv("RECORDING_TEST_KEEP"); d != "" {
		_ = os.CopyFS(d, os.DirFS(dir))
	}
	started := readJSON(t, filepath.Join(root, "events/recording-started.json"))
	ended := readJSON(t, filepath.Join(root, "events/recording-ended.json"))
	if _, err := os.Stat(filepath.Join(root, "events/recording-failed.json")); err == nil {
		t.Error("recording-failed.json written for a clean recording")
	}
	for _, md := range []Metadata{started, ended} {
		if md.Version != "v1" || md.ChannelARN != testChannel || md.RecordingStartedAt == "" {
			t.Errorf("metadata %+v", md)
		}
		if md.Media.HLS == nil || md.Media.HLS.Path != "media/hls" || md.Media.HLS.Playlist != "master.m3u8" || len(md.Media.HLS.Renditions) != 2 {
			t.Fatalf("hls metadata %+v", md.Media.HLS)
		}
		r0 := md.Media.HLS.Renditions[0]
		if r0.Path != "240p30" || r0.Playlist != "playlist.m3u8" || r0.ResolutionWidth != 320 || r0.ResolutionHeight != 240 {
			t.Errorf("rendition metadata %+v", r0)
		}
		if md.Media.Thumbnails == nil || md.Media.Thumbnails.Path != "media/thumbnails" || md.Media.LatestThumbnail == nil ||
			md.Media.LatestThumbnail.Path != "media/latest_thumbnail" || md.Media.Thumbnails.ResolutionHeight != 240 {
			t.Errorf("thumbnail metadata %+v %+v", md.Media.Thumbnails, md.Media.LatestThumbnail)
		}
	}
	if started.RecordingStatus != "RECORDING_STARTED" || started.RecordingEndedAt != "" || started.Media.HLS.DurationMS != nil {
		t.Errorf("started: %+v", started)
	}
	if ended.RecordingStatus != "RECORDING_ENDED" || ended.RecordingEndedAt < ended.RecordingStartedAt {
		t.Errorf("ended: %+v", ended)
	}
	if d := ended.Media.HLS.DurationMS; d == nil || math.Abs(float64(*d)-7000) > 1100 {
		t.Errorf("duration_ms %v, want about 7000", d)
	}

	master, err := os.ReadFile(filepath.Join(root, "media/hls/master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RESOLUTION=320x240", "RESOLUTION=160x120", "240p30/playlist.m3u8", "120p30/playlist.m3u8", `CODECS="avc1.`} {
		if !strings.Contains(string(master), want) {
			t.Errorf("master playlist lacks %q:\n%s", want, master)
		}
	}
	for _, r := range rs {
		pl, whole := checkRendition(t, filepath.Join(root, "media/hls", r.Name), r.Width, r.Height)
		if !pl.Ended || pl.Discontinuities != 0 {
			t.Errorf("%s: ended %v, discontinuities %d", r.Name, pl.Ended, pl.Discontinuities)
		}
		for i, d := range pl.Durations {
			if i < len(pl.Durations)-1 && (d < 1.99 || d > 3.01) {
				t.Errorf("%s: segment %d lasts %.3f s, want 2-3 s (cut at the first key frame after 2 s)", r.Name, i, d)
			}
		}
		if whole.VideoFrames < 200 || whole.VideoFrames > 210 {
			t.Errorf("%s: %d video frames recorded of 210", r.Name, whole.VideoFrames)
		}
	}
	for _, f := range []string{"media/thumbnails/240p30/thumb0.jpg", "media/thumbnails/240p30/thumb5.jpg", "media/latest_thumbnail/240p30/thumb.jpg"} {
		if b, err := os.ReadFile(filepath.Join(root, f)); err != nil || string(b) != string(fakeJPEG) {
			t.Errorf("%s: %v", f, err)
		}
	}

	evs := pub.all()
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End"}) {
		t.Fatalf("events %v", got)
	}
	for _, e := range evs {
		if e["_type"] != "IVS Recording State Change" || !slices.Equal(e["_resources"].([]string), []string{testChannel}) ||
			e["channel_name"] != "demo" || e["stream_id"] != "st-first" || e["recording_s3_bucket_name"] != testBucket ||
			e["recording_s3_key_prefix"] != prefix || e["recording_status_reason"] != "" ||
			len(e["recording_session_id"].(string)) != 16 {
			t.Errorf("event %v", e)
		}
	}
	if d := evs[1]["recording_duration_ms"].(int64); d != *ended.Media.HLS.DurationMS {
		t.Errorf("event duration %d, metadata %d", d, *ended.Media.HLS.DurationMS)
	}
	if ids := evs[1]["recording_session_stream_ids"].([]string); !slices.Equal(ids, []string{"st-first"}) {
		t.Errorf("stream ids %v", ids)
	}
	if m.Active() != 0 {
		t.Error("recording still active after Close")
	}
}
