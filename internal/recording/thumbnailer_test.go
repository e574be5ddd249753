package recording

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/recording/objstore"
)

func TestFFmpegThumbnailsLandInTheRecording(t *testing.T) {
	t.Parallel()
	rs, us := makeRenditions(t, 6, [2]int{320, 240})
	dir := t.TempDir()
	store := objstore.NewLocal(dir)
	m := NewManager(Config{Store: store, SegmentDuration: 2 * time.Second,
		Thumbnailer: FFmpegThumbnailer{Transcode: config.Default().Transcode}}, nil, nil)
	prefix, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-thumbs",
		RecordingConfig: recordingConfig(0, true), Renditions: rs})
	if err != nil {
		t.Fatal(err)
	}
	feedAll(t, rs, us, 1, 0) // real time: ffmpeg picks one picture per second of media
	// Give ffmpeg a moment to hand over the last picture before the end.
	time.Sleep(500 * time.Millisecond)
	m.StreamEnded(testChannel, "st-thumbs")
	m.Close()

	root := store.Path(testBucket, prefix)
	thumbs, _ := filepath.Glob(filepath.Join(root, "media/thumbnails/240p30/thumb*.jpg"))
	if len(thumbs) < 3 {
		t.Fatalf("%d sequential thumbnails of a 6 s stream at 1 s intervals: %v", len(thumbs), thumbs)
	}
	for _, f := range append(thumbs, filepath.Join(root, "media/latest_thumbnail/240p30/thumb.jpg")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if sz := img.Bounds().Size(); sz.X != 320 || sz.Y != 240 {
			t.Errorf("%s: %v, want 320x240", f, sz)
		}
	}
}
