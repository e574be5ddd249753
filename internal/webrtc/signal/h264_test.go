package signal_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// encodeH264 makes an Annex B file of 320x240 test video at 30 fps.
func encodeH264(t *testing.T, profile string, frames int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.h264")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
		"-frames:v", "60", "-c:v", "libx264", "-profile:v", profile, "-preset", "veryfast", "-threads", "1",
		"-g", "15", "-bf", "0", "-pix_fmt", "yuv420p", "-f", "h264", "-y", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = frames
	return b
}

// accessUnits groups an Annex B stream's NAL units into access units
// (parameter sets and SEI travel with the next slice).
func accessUnits(t *testing.T, raw []byte) [][]byte {
	t.Helper()
	r, err := h264reader.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	var cur []byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			out = append(out, cur)
			cur = nil
		}
	}
	return out
}

func TestH264BaselineAndMainAreForwardedDecodable(t *testing.T) {
	for _, c := range []struct{ profile, fmtp string }{
		{"baseline", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		{"main", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"},
	} {
		t.Run(c.profile, func(t *testing.T) {
			st := newStage(t)
			aus := accessUnits(t, encodeH264(t, c.profile, 60))
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			tok, pid := st.token("cam", nil)
			video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: c.fmtp}, "video", "cam")
			if err != nil {
				t.Fatal(err)
			}
			pub, err := st.client(tok).Publish(ctx, video)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close(context.Background())
			if err := pub.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			sendCtx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() {
				tick := time.NewTicker(time.Second / 30)
				defer tick.Stop()
				for i := 0; ; i++ {
					select {
					case <-sendCtx.Done():
						return
					case <-tick.C:
					}
					_ = video.WriteSample(media.Sample{Data: aus[i%len(aus)], Duration: time.Second / 30})
				}
			})
			defer func() { stop(); wg.Wait() }()

			var mu sync.Mutex
			var stream []byte
			var frames, keys int
			var mime, fmtp string
			subTok, _ := st.token("viewer", nil)
			sub, err := st.client(subTok).Subscribe(ctx, pid, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
				mu.Lock()
				mime, fmtp = tr.Codec().MimeType, tr.Codec().SDPFmtpLine
				mu.Unlock()
				sb := samplebuilder.New(256, &codecs.H264Packet{}, 90000)
				for {
					pkt, _, err := tr.ReadRTP()
					if err != nil {
						return
					}
					sb.Push(pkt)
					for s := sb.Pop(); s != nil; s = sb.Pop() {
						mu.Lock()
						key := bytes.Contains(s.Data, []byte{0, 0, 1, 0x65}) || bytes.Contains(s.Data, []byte{0, 0, 1, 0x67})
						if key {
							keys++
						}
						if len(stream) > 0 || key {
							stream = append(stream, s.Data...)
							frames++
						}
						mu.Unlock()
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close(context.Background())
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n, k := frames, keys
				mu.Unlock()
				if n >= 45 && k >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("received %d frames, %d key frames", n, k)
				}
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.EqualFold(mime, webrtc.MimeTypeH264) || !strings.Contains(fmtp, c.fmtp[strings.Index(c.fmtp, "profile-level-id"):]) {
				t.Fatalf("subscriber negotiated %s %q, want the publisher's %q", mime, fmtp, c.fmtp)
			}
			path := filepath.Join(t.TempDir(), "out.h264")
			if err := os.WriteFile(path, stream, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
				"-show_entries", "stream=nb_read_frames,profile", "-of", "csv=p=0", path).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			fields := strings.Split(strings.TrimSpace(string(out)), ",")
			n := 0
			if len(fields) == 2 {
				n, _ = strconv.Atoi(fields[1])
			}
			if len(fields) != 2 || !strings.Contains(strings.ToLower(fields[0]), c.profile) || n < 40 {
				t.Fatalf("ffprobe of the received stream: %q", out)
			}
		})
	}
}
