package recording

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/recording/objstore"
)

const (
	testStage       = "arn:aws:ivs:us-east-1:123456789012:stage/St4geAbcdefg"
	testComposition = "arn:aws:ivs:us-east-1:123456789012:composition/C0mpAbcdefgh"
	testCompPrefix  = "St4geAbcdefg/C0mpAbcdefgh/D3stAbcdefgh/composite"
)

func compositeInfo(tracks []media.Track) CompositeInfo {
	return CompositeInfo{StageARN: testStage, CompositionARN: testComposition, DestinationID: "D3stAbcdefgh",
		Bucket: testBucket, Prefix: testCompPrefix, Tracks: tracks}
}

// writeAll writes units through w paced at speed times real time (0: as
// fast as possible) and returns how long the writes took.
func writeAll(tracks []media.Track, w *CompositeRecording, units []*media.Unit, speed float64) time.Duration {
	start := time.Now()
	base := unitTime(tracks, units[0])
	var busy time.Duration
	for _, u := range units {
		if speed > 0 {
			due := time.Duration(float64(unitTime(tracks, u)-base) / speed)
			if d := due - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
		c := *u
		t0 := time.Now()
		w.Write(&c)
		busy += time.Since(t0)
	}
	return busy
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not closed after 30 s", what)
	}
}

func TestCompositeRecordingWritesHLSUnderThePrefix(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 7))
	dir := t.TempDir()
	pub := &fakePublisher{}
	m := NewManager(Config{Store: objstore.NewLocal(dir), Thumbnailer: fakeThumbnailer{}}, pub, nil)
	defer m.Close()
	in := compositeInfo(tracks)
	in.Thumbnails = &CompositeThumbnails{Every: time.Second, Sequential: true, Latest: true}
	c, err := m.StartComposite(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix() != testCompPrefix || c.Bucket() != testBucket || m.Active() != 1 {
		t.Fatalf("prefix %q bucket %q active %d", c.Prefix(), c.Bucket(), m.Active())
	}
	writeAll(tracks, c, units, 4)
	select {
	case <-c.Done():
		t.Fatal("Done closed while recording")
	default:
	}
	c.Close(nil)
	c.Close(nil) // idempotent
	waitClosed(t, c.Ended(), "Ended")
	waitClosed(t, c.Done(), "Done after the end")

	root := filepath.Join(dir, testBucket, filepath.FromSlash(testCompPrefix))
	started := readJSON(t, filepath.Join(root, "events/recording-started.json"))
	ended := readJSON(t, filepath.Join(root, "events/recording-ended.json"))
	for _, md := range []Metadata{started, ended} {
		if md.ChannelARN != "" || md.StageARN != testStage || md.CompositionARN != testComposition || md.DestinationID != "D3stAbcdefgh" {
			t.Errorf("metadata names %+v", md)
		}
		if md.Media.HLS == nil || len(md.Media.HLS.Renditions) != 1 || md.Media.HLS.Renditions[0].Path != "320x240" ||
			md.Media.HLS.Renditions[0].ResolutionHeight != 240 {
			t.Fatalf("hls metadata %+v", md.Media.HLS)
		}
		if md.Media.Thumbnails == nil || md.Media.LatestThumbnail == nil {
			t.Errorf("thumbnail metadata %+v", md.Media)
		}
	}
	if ended.RecordingStatus != "RECORDING_ENDED" || ended.Media.HLS.DurationMS == nil || *ended.Media.HLS.DurationMS < 6000 {
		t.Errorf("ended %+v", ended)
	}
	master, err := os.ReadFile(filepath.Join(root, "media/hls/master.m3u8"))
	if err != nil || !strings.Contains(string(master), "320x240/playlist.m3u8") {
		t.Fatalf("master: %v\n%s", err, master)
	}
	pl, whole := checkRendition(t, filepath.Join(root, "media/hls/320x240"), 320, 240)
	if !pl.Ended || pl.Discontinuities != 0 {
		t.Errorf("ended %v, discontinuities %d", pl.Ended, pl.Discontinuities)
	}
	for i, d := range pl.Durations {
		if i < len(pl.Durations)-1 && (d < 1.99 || d > 3.01) {
			t.Errorf("segment %d lasts %.3f s, want 2-3 s (the composite default target is 2 s)", i, d)
		}
	}
	if whole.VideoFrames < 200 {
		t.Errorf("%d video frames recorded of 210", whole.VideoFrames)
	}
	for _, f := range []string{"media/thumbnails/320x240/thumb0.jpg", "media/latest_thumbnail/320x240/thumb.jpg"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Error(err)
		}
	}
	if got := pub.statuses(); len(got) != 0 {
		t.Errorf("a composite recording published channel recording events %v", got)
	}
	if m.Active() != 0 {
		t.Errorf("%d recordings active after the end", m.Active())
	}
}

func TestCompositeRecordingRejectsBadInput(t *testing.T) {
	t.Parallel()
	tracks, _ := demux(t, genTS(t, 320, 240, 2))
	m := NewManager(Config{Store: objstore.NewLocal(t.TempDir())}, nil, nil)
	for _, p := range []string{"", "/a/composite", "a//composite", "a/../composite", "a/composite/", "a/b c"} {
		in := compositeInfo(tracks)
		in.Prefix = p
		if _, err := m.StartComposite(context.Background(), in); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	in := compositeInfo(tracks)
	in.Bucket = "Not_A_Bucket"
	if _, err := m.StartComposite(context.Background(), in); err == nil {
		t.Error("invalid bucket accepted")
	}
	c, err := m.StartComposite(context.Background(), compositeInfo(tracks))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.StartComposite(context.Background(), compositeInfo(tracks)); !errors.Is(err, ErrBusy) {
		t.Errorf("second recording of the composition: %v, want ErrBusy", err)
	}
	c.Close(nil)
	waitClosed(t, c.Ended(), "Ended")
	m.Close()
	if _, err := m.StartComposite(context.Background(), compositeInfo(tracks)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestCompositeRecordingStartFailureClosesDone(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 2))
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), fail: func(string, int) bool { return true }}
	m := NewManager(Config{Store: st, UploadAttempts: 2, UploadBackoff: time.Millisecond}, nil, nil)
	defer m.Close()
	c, err := m.StartComposite(context.Background(), compositeInfo(tracks))
	if err != nil {
		t.Fatal(err)
	}
	writeAll(tracks, c, units[:10], 0)
	waitClosed(t, c.Done(), "Done after recording-started.json failed")
	c.Close(nil)
	waitClosed(t, c.Ended(), "Ended")
}

func TestCompositeRecordingWriteNeverBlocksOnStalledStorage(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 8))
	release := make(chan struct{})
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), gate: func(key string) <-chan struct{} {
		if strings.HasSuffix(key, ".ts") {
			return release
		}
		return nil
	}}
	// The unit queue holds the whole input, so every drop below is a
	// segment the hung storage could not take: a unit dropped at the hub
	// would make a segment resume mid-stream and the checks ambiguous.
	m := NewManager(Config{Store: st, QueueSegments: 1, ReaderQueue: 2 * len(units)}, nil, nil)
	defer m.Close()
	in := compositeInfo(tracks)
	in.SegmentDuration = time.Second
	c, err := m.StartComposite(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(tracks, c, units, 0) // storage hangs: must return anyway
	// 8 one-second segments meet a hung upload and a queue of 1: at most two
	// are held, the rest must be dropped. Wait for the segmenter to get
	// through the input (the last segment is flushed only by Close).
	deadline := time.Now().Add(20 * time.Second)
	for c.rec.dropped.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := c.rec.dropped.Load(); n < 5 {
		t.Fatalf("%d segments dropped although storage hung with a queue of 1, want at least 5", n)
	}
	for _, r := range c.st.readers {
		if n := r.Dropped(); n != 0 {
			t.Errorf("%d units dropped at the hub with a queue larger than the input", n)
		}
	}
	close(release)
	c.Close(nil)
	waitClosed(t, c.Ended(), "Ended")
	root := st.Path(testBucket, testCompPrefix)
	pl, _ := checkRendition(t, filepath.Join(root, "media/hls/320x240"), 320, 240)
	if !pl.Ended || len(pl.Segments) >= 8 {
		t.Errorf("ended %v, %d segments listed (some must have been dropped)", pl.Ended, len(pl.Segments))
	}
}

func TestManagerCloseEndsCompositeRecordings(t *testing.T) {
	t.Parallel()
	tracks, units := demux(t, genTS(t, 320, 240, 3))
	dir := t.TempDir()
	m := NewManager(Config{Store: objstore.NewLocal(dir)}, nil, nil)
	c, err := m.StartComposite(context.Background(), compositeInfo(tracks))
	if err != nil {
		t.Fatal(err)
	}
	writeAll(tracks, c, units, 0)
	m.Close()
	waitClosed(t, c.Done(), "Done after Manager.Close")
	waitClosed(t, c.Ended(), "Ended after Manager.Close")
	c.Close(nil) // after the Manager ended it: a no-op
	root := filepath.Join(dir, testBucket, filepath.FromSlash(testCompPrefix))
	if md := readJSON(t, filepath.Join(root, "events/recording-ended.json")); md.RecordingStatus != "RECORDING_ENDED" {
		t.Errorf("ended %+v", md)
	}
	b, err := os.ReadFile(filepath.Join(root, "media/hls/320x240/playlist.m3u8"))
	if err != nil || !strings.Contains(string(b), "#EXT-X-ENDLIST") {
		t.Errorf("playlist not ended: %v\n%s", err, b)
	}
}
