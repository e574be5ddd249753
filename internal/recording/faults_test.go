package recording

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// faultyStore wraps the real local store and injects failures or stalls,
// decided per key by fail and gate.
type faultyStore struct {
	*objstore.Local
	mu    sync.Mutex
	tries map[string]int
	// fail reports whether this attempt of key fails.
	fail func(key string, attempt int) bool
	// gate, when set for a key, holds its Put until the channel closes.
	gate func(key string) <-chan struct{}
}

var errInjected = errors.New("injected failure")

func (f *faultyStore) Put(ctx context.Context, bucket, key string, body []byte, ct string) error {
	f.mu.Lock()
	if f.tries == nil {
		f.tries = map[string]int{}
	}
	f.tries[key]++
	n := f.tries[key]
	f.mu.Unlock()
	if f.gate != nil {
		if ch := f.gate(key); ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if f.fail != nil && f.fail(key, n) {
		return errInjected
	}
	return f.Local.Put(ctx, bucket, key, body, ct)
}

func recordOnce(t *testing.T, m *Manager, secs int, speed float64) (string, []Rendition) {
	t.Helper()
	tracks, units := demux(t, genTS(t, 320, 240, secs))
	hub := stream.NewHub(tracks, nil)
	rs := []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}
	prefix, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-fault",
		RecordingConfig: recordingConfig(0, false), Renditions: rs})
	if err != nil {
		t.Fatal(err)
	}
	feed(t.Context(), hub, units, speed, 0)
	return prefix, rs
}

func TestUploadsAreRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	// Every object's first two attempts fail.
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), fail: func(_ string, n int) bool { return n <= 2 }}
	pub := &fakePublisher{}
	m := NewManager(Config{Store: st, SegmentDuration: 2 * time.Second, UploadBackoff: time.Millisecond}, pub, nil)
	prefix, _ := recordOnce(t, m, 6, 8)
	m.StreamEnded(testChannel, "st-fault")
	m.Close()
	root := st.Path(testBucket, prefix)
	pl, whole := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if !pl.Ended || pl.Discontinuities != 0 || whole.VideoFrames < 170 {
		t.Errorf("ended %v, %d discontinuities, %d frames", pl.Ended, pl.Discontinuities, whole.VideoFrames)
	}
	if _, err := os.Stat(filepath.Join(root, "events/recording-ended.json")); err != nil {
		t.Error(err)
	}
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End"}) {
		t.Errorf("events %v", got)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := st.tries[prefix+"/media/hls/240p30/0.ts"]; n != 3 {
		t.Errorf("segment 0 written in %d attempts, want 3", n)
	}
}

func TestStalledStorageDropsSegmentsWithoutBlockingTheStream(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), gate: func(key string) <-chan struct{} {
		if strings.HasSuffix(key, ".ts") {
			return release // segment writes hang until released
		}
		return nil
	}}
	m := NewManager(Config{Store: st, SegmentDuration: time.Second, QueueSegments: 2}, nil, nil)
	// The whole stream is written to the hub while storage hangs: the
	// hub's writer must never wait for the recorder.
	prefix, rs := recordOnce(t, m, 8, 0)
	deadline := time.Now().Add(20 * time.Second)
	for m.Dropped() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m.Dropped() == 0 {
		t.Fatal("no segment dropped although storage hung with a queue of 2")
	}
	close(release)
	m.StreamEnded(testChannel, "st-fault")
	m.Close()
	if rs[0].Hub.Written() == 0 {
		t.Fatal("nothing written")
	}
	root := st.Path(testBucket, prefix)
	pl, _ := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if !pl.Ended || len(pl.Segments) >= 8 {
		t.Errorf("ended %v, %d segments listed (some must have been dropped)", pl.Ended, len(pl.Segments))
	}
	if pl.Discontinuities == 0 {
		t.Error("no discontinuity where segments were dropped")
	}
	t.Logf("dropped %d segments, listed %d", m.Dropped(), len(pl.Segments))
}

func TestUnwritableBucketIsARecordingStartFailure(t *testing.T) {
	t.Parallel()
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), fail: func(string, int) bool { return true }}
	pub := &fakePublisher{}
	m := NewManager(Config{Store: st, SegmentDuration: time.Second, UploadAttempts: 2, UploadBackoff: time.Millisecond}, pub, nil)
	recordOnce(t, m, 2, 0)
	m.StreamEnded(testChannel, "st-fault")
	m.Close()
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start Failure"}) {
		t.Fatalf("events %v", got)
	}
	if r := pub.all()[0]["recording_status_reason"]; r == "" {
		t.Error("start failure without a reason")
	}
}

func TestLostSegmentEndsTheRecordingWithFailure(t *testing.T) {
	t.Parallel()
	st := &faultyStore{Local: objstore.NewLocal(t.TempDir()), fail: func(key string, _ int) bool {
		return strings.HasSuffix(key, "/1.ts")
	}}
	pub := &fakePublisher{}
	m := NewManager(Config{Store: st, SegmentDuration: 2 * time.Second, UploadAttempts: 2, UploadBackoff: time.Millisecond}, pub, nil)
	prefix, _ := recordOnce(t, m, 6, 8)
	m.StreamEnded(testChannel, "st-fault")
	m.Close()
	root := st.Path(testBucket, prefix)
	md := readJSON(t, filepath.Join(root, "events/recording-failed.json"))
	if md.RecordingStatus != "RECORDING_ENDED_WITH_FAILURE" || md.RecordingStatusMessage == "" || md.RecordingEndedAt == "" {
		t.Errorf("failed metadata %+v", md)
	}
	if _, err := os.Stat(filepath.Join(root, "events/recording-ended.json")); err == nil {
		t.Error("recording-ended.json written next to recording-failed.json")
	}
	pl, _ := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if slices.Contains(pl.Segments, "1.ts") || pl.Discontinuities != 1 || !pl.Ended {
		t.Errorf("playlist %+v: the lost segment must be skipped with a discontinuity", pl)
	}
	if got := pub.statuses(); !slices.Equal(got, []string{"Recording Start", "Recording End Failure"}) {
		t.Errorf("events %v", got)
	}
}

func TestInvalidBucketIsRejectedAtOnce(t *testing.T) {
	t.Parallel()
	pub := &fakePublisher{}
	m := NewManager(Config{Store: objstore.NewLocal(t.TempDir())}, pub, nil)
	defer m.Close()
	rc := recordingConfig(0, false)
	bad := "Not_A_Bucket"
	rc.DestinationConfiguration.S3.BucketName = &bad
	hub := stream.NewHub(nil, nil)
	if _, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-bad", RecordingConfig: rc,
		Renditions: []Rendition{{Name: "240p30", Hub: hub}}}); err == nil {
		t.Fatal("invalid bucket accepted")
	}
	evs := pub.all()
	if len(evs) != 1 || evs[0]["recording_status"] != "Recording Start Failure" || evs[0]["recording_status_reason"] != "ValidationException" {
		t.Fatalf("events %v", evs)
	}
	if hub.Readers() != 0 || m.Active() != 0 {
		t.Errorf("readers %d, active %d after a rejected start", hub.Readers(), m.Active())
	}
}
