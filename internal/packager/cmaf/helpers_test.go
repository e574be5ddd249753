package cmaf

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stagecast/stagecast/internal/packager/cmaf/cmaftest"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
	"github.com/stagecast/stagecast/internal/testutil/mediatest"
)

var (
	srcOnce sync.Once
	srcData *cmaftest.Source
	srcErr  error
)

// source returns a 6 s 1280x720 30 fps H.264 (1 s GOP) + 48 kHz AAC
// recording made by ffmpeg, demuxed.
func source(t testing.TB) *cmaftest.Source {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	srcOnce.Do(func() {
		out, err := mediatest.TestPatternTS(6)
		if err != nil {
			srcErr = err
			return
		}
		srcData, srcErr = cmaftest.Demux(out)
	})
	if srcErr != nil {
		t.Fatalf("source: %v", srcErr)
	}
	return srcData
}

type probeStream struct {
	CodecType    string `json:"codec_type"`
	CodecName    string `json:"codec_name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	NbReadFrames string `json:"nb_read_frames"`
}

// probe decodes data with ffprobe (-count_frames) and returns its streams.
func probe(t testing.TB, data []byte, name string) []probeStream {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_frames", "-of", "json", p)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", name, err, stderr.String())
	}
	var res struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	return res.Streams
}

// syncSegmenter returns a segmenter over src's tracks for a test that
// calls handle itself (its reader is never read), and the rendition it
// fills; the channel closes when the test ends.
func syncSegmenter(t *testing.T, src *cmaftest.Source, container segstore.Container, o segstore.Options) (*Segmenter, *segstore.Rendition) {
	t.Helper()
	ch := segstore.New(o).Open(testARN, segstore.Low, container)
	t.Cleanup(ch.Close)
	rd, err := ch.AddRendition("src", segstore.RenditionInfo{Tracks: src.Tracks})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(stream.NewHub(src.Tracks, nil).NewReader("x", 1), src.Tracks, rd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, rd
}
