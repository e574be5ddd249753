package recording

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// waitFile polls for a file until deadline.
func waitFile(t *testing.T, file string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(file); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", file, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReconnectWithinWindowContinuesTheRecording(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 4))
	dir := t.TempDir()
	store := objstore.NewLocal(dir)
	pub := &fakePublisher{}
	m := NewManager(Config{Store: store, SegmentDuration: 2 * time.Second}, pub, nil)
	defer m.Close()
	rc := recordingConfig(2, false)

	var prefixes []string
	for i, id := range []string{"st-one", "st-two"} {
		hub := stream.NewHub(tracks, nil) // each publisher gets a new hub
		p, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: id, RecordingConfig: rc,
			Renditions: []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}})
		if err != nil {
			t.Fatal(err)
		}
		prefixes = append(prefixes, p)
		// The second stream's source clock restarts at zero, as a new
		// encoder's would.
		feed(t.Context(), hub, units, 8, 0)
		hub.Close()
		m.StreamEnded(testChannel, id)
		if i == 0 {
			time.Sleep(300 * time.Millisecond) // well inside the 2 s window
			if _, err := os.Stat(store.Path(testBucket, p+"/events/recording-ended.json")); err == nil {
				t.Fatal("recording ended inside the reconnect window")
			}
		}
	}
	if prefixes[0] != prefixes[1] {
		t.Fatalf("reconnect inside the window started a new recording: %v", prefixes)
	}
	root := store.Path(testBucket, prefixes[0])
	waitFile(t, filepath.Join(root, "events/recording-ended.json"), 15*time.Second)
	if got := recordingPrefixes(t, store); len(got) != 1 {
		t.Fatalf("recordings %v", got)
	}
	pl, whole := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if pl.Discontinuities != 1 || !pl.Ended {
		t.Errorf("playlist: %d discontinuities (want 1), ended %v", pl.Discontinuities, pl.Ended)
	}
	if whole.VideoFrames < 2*115 {
		t.Errorf("%d video frames of two 4 s streams", whole.VideoFrames)
	}
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End"}) {
		t.Fatalf("events %v", got)
	}
	end := pub.all()[1]
	if ids := end["recording_session_stream_ids"].([]string); !slices.Equal(ids, []string{"st-one", "st-two"}) || end["stream_id"] != "st-two" {
		t.Errorf("end event %v", end)
	}
	md := readJSON(t, filepath.Join(root, "events/recording-ended.json"))
	if d := *md.Media.HLS.DurationMS; d < 7500 || d > 8600 {
		t.Errorf("duration_ms %d, want the two streams' 8 s", d)
	}
}

func TestReconnectAfterWindowStartsANewRecording(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 4))
	dir := t.TempDir()
	store := objstore.NewLocal(dir)
	pub := &fakePublisher{}
	m := NewManager(Config{Store: store, SegmentDuration: 2 * time.Second}, pub, nil)
	defer m.Close()
	rc := recordingConfig(1, false)

	var prefixes []string
	for _, id := range []string{"st-one", "st-two"} {
		hub := stream.NewHub(tracks, nil)
		p, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: id, RecordingConfig: rc,
			Renditions: []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}})
		if err != nil {
			t.Fatal(err)
		}
		prefixes = append(prefixes, p)
		feed(t.Context(), hub, units, 8, 0)
		m.StreamEnded(testChannel, id)
		// The window (1 s) passes: the recording ends.
		waitFile(t, store.Path(testBucket, p+"/events/recording-ended.json"), 15*time.Second)
	}
	if prefixes[0] == prefixes[1] {
		t.Fatal("a stream after the window continued the old recording")
	}
	if got := recordingPrefixes(t, store); len(got) != 2 {
		t.Fatalf("recordings %v", got)
	}
	for _, p := range prefixes {
		pl, _ := checkRendition(t, store.Path(testBucket, p+"/media/hls/240p30"), 320, 240)
		if pl.Discontinuities != 0 || !pl.Ended {
			t.Errorf("%s: %d discontinuities, ended %v", p, pl.Discontinuities, pl.Ended)
		}
	}
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End", "Recording Start", "Recording End"}) {
		t.Fatalf("events %v", got)
	}
}

func TestTakeoverAndCloseInsideTheWindow(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 4))
	dir := t.TempDir()
	store := objstore.NewLocal(dir)
	pub := &fakePublisher{}
	m := NewManager(Config{Store: store, SegmentDuration: time.Second}, pub, nil)
	rc := recordingConfig(300, false) // a window far longer than the test

	start := func(id string) (string, *stream.Hub) {
		hub := stream.NewHub(tracks, nil)
		p, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: id, RecordingConfig: rc,
			Renditions: []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}})
		if err != nil {
			t.Fatal(err)
		}
		return p, hub
	}
	p1, h1 := start("st-one")
	feed(t.Context(), h1, units, 8, 0)
	// A second publisher takes over without the first one ending.
	p2, h2 := start("st-two")
	feed(t.Context(), h2, units, 8, 0)
	m.StreamEnded(testChannel, "st-one") // stale: ignored
	if m.Active() != 1 {
		t.Fatalf("%d active recordings", m.Active())
	}
	m.StreamEnded(testChannel, "st-two")
	// Shutdown inside the 300 s window ends the recording at once.
	m.Close()
	if p1 != p2 {
		t.Fatalf("takeover started a new recording: %s, %s", p1, p2)
	}
	root := store.Path(testBucket, p1)
	if _, err := os.Stat(filepath.Join(root, "events/recording-ended.json")); err != nil {
		t.Fatalf("Close inside the window did not end the recording: %v", err)
	}
	pl, _ := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if pl.Discontinuities != 1 || !pl.Ended {
		t.Errorf("%d discontinuities, ended %v", pl.Discontinuities, pl.Ended)
	}
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End"}) {
		t.Errorf("events %v", got)
	}
	if _, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "late", RecordingConfig: rc,
		Renditions: []Rendition{{Name: "240p30", Hub: stream.NewHub(tracks, nil)}}}); err == nil {
		t.Error("StreamStarted after Close accepted")
	}
}

func TestChangedRecordingConfigurationStartsANewRecording(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 4))
	store := objstore.NewLocal(t.TempDir())
	m := NewManager(Config{Store: store, SegmentDuration: time.Second}, nil, nil)
	defer m.Close()
	var prefixes []string
	for i, arn := range []string{testConfig, testConfig + "x"} {
		rc := recordingConfig(60, false)
		rc.Arn = &arn
		hub := stream.NewHub(tracks, nil)
		id := []string{"st-one", "st-two"}[i]
		p, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: id, RecordingConfig: rc,
			Renditions: []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}})
		if err != nil {
			t.Fatal(err)
		}
		prefixes = append(prefixes, p)
		feed(t.Context(), hub, units[:len(units)/2], 8, 0)
		m.StreamEnded(testChannel, id)
	}
	if prefixes[0] == prefixes[1] {
		t.Fatal("a stream under another recording configuration continued the old recording")
	}
	// The first recording ends when the second starts, not after its window.
	waitFile(t, store.Path(testBucket, prefixes[0]+"/events/recording-ended.json"), 15*time.Second)
}
