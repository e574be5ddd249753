package signal_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	smedia "github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

// sendIVF loops an IVF file into a VP8 track at 30 fps, plus 20 ms Opus
// silence frames on audio, until ctx ends.
func sendIVF(ctx context.Context, path string, video, audio *webrtc.TrackLocalStaticSample) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for {
		r, _, err := ivfreader.NewWith(strings.NewReader(string(raw)))
		if err != nil {
			return err
		}
		for {
			frame, _, err := r.ParseNextFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			if err := video.WriteSample(media.Sample{Data: frame, Duration: time.Second / 30}); err != nil {
				return err
			}
			if audio != nil {
				for range 2 {
					_ = audio.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond})
				}
			}
		}
	}
}

// received is what one subscriber saw.
type received struct {
	mu           sync.Mutex
	frames, keys int
	audioPackets int
	gaps         int
	lastSeq      int
	ivfPath      string
	ivf          *ivfwriter.IVFWriter
	ivfFrames    int
	writing      bool
}

// vp8KeyStart: first packet of a VP8 key frame (simple descriptor forms).
func vp8KeyStart(b []byte) bool {
	if len(b) < 2 || b[0]&0x10 == 0 || b[0]&0x07 != 0 {
		return false
	}
	i := 1
	if b[0]&0x80 != 0 {
		x := b[1]
		i = 2
		if x&0x80 != 0 {
			if len(b) > i && b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 {
			i++
		}
		if x&0x30 != 0 {
			i++
		}
	}
	return len(b) > i && b[i]&1 == 0
}

func (rc *received) readVideo(tr *webrtc.TrackRemote) {
	sb := samplebuilder.New(128, &codecs.VP8Packet{}, 90000)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		rc.mu.Lock()
		if rc.lastSeq >= 0 && pkt.SequenceNumber != uint16(rc.lastSeq+1) {
			rc.gaps++
		}
		rc.lastSeq = int(pkt.SequenceNumber)
		if rc.ivf != nil && rc.ivfFrames < 30 && (rc.ivfFrames > 0 || rc.writing || vp8KeyStart(pkt.Payload)) {
			rc.writing = true
			_ = rc.ivf.WriteRTP(pkt) // one decodable GOP and more
			if pkt.Marker {
				rc.ivfFrames++
			}
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			rc.frames++
			key := len(s.Data) > 0 && s.Data[0]&1 == 0
			if key {
				rc.keys++
			}
		}
		rc.mu.Unlock()
	}
}

func TestPublisherToThreeSubscribersDecodableVP8(t *testing.T) {
	st := newStage(t)
	ivf := encodeVP8(t, 60)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	pubTok, pubID := st.token("alice", map[string]string{"role": "host"})
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "alice")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "alice")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := st.client(pubTok).Publish(ctx, video, audio)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close(context.Background())
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	sendCtx, stopSend := context.WithCancel(ctx)
	var sendWG sync.WaitGroup
	sendWG.Go(func() {
		if err := sendIVF(sendCtx, ivf, video, audio); err != nil {
			t.Errorf("send: %v", err)
		}
	})
	defer func() { stopSend(); sendWG.Wait() }()

	// The compositor's view: depacketized units from the hub.
	tracks, hub, err := st.srv.SFU.Subscribe(st.arn, pubID)
	if err != nil {
		t.Fatalf("sfu subscribe: %v", err)
	}
	if len(tracks) != 2 || tracks[0].Codec != smedia.VP8 || tracks[1].Codec != smedia.Opus {
		t.Fatalf("hub tracks: %v", tracks)
	}
	reader := hub.NewReader("test", 0)
	defer reader.Close()

	const n = 3
	subs := make([]*received, n)
	var peers []*loadgen.Peer
	for i := range n {
		tok, _ := st.token("viewer", nil)
		rc := &received{lastSeq: -1}
		if i == 0 {
			rc.ivfPath = filepath.Join(t.TempDir(), "out.ivf")
			f, err := os.Create(rc.ivfPath)
			if err != nil {
				t.Fatal(err)
			}
			if rc.ivf, err = ivfwriter.NewWith(f, ivfwriter.WithCodec(webrtc.MimeTypeVP8)); err != nil {
				t.Fatal(err)
			}
		}
		subs[i] = rc
		p, err := st.client(tok).Subscribe(ctx, pubID, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				rc.readVideo(tr)
				return
			}
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				rc.mu.Lock()
				rc.audioPackets++
				rc.mu.Unlock()
			}
		})
		if err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
		peers = append(peers, p)
	}
	defer func() {
		for _, p := range peers {
			_ = p.Close(context.Background())
		}
	}()

	// Wait until every subscriber has 2 s of video with key frames.
	deadline := time.Now().Add(20 * time.Second)
	for {
		done := true
		for _, rc := range subs {
			rc.mu.Lock()
			if rc.frames < 60 || rc.keys < 2 || rc.audioPackets < 50 {
				done = false
			}
			rc.mu.Unlock()
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			for i, rc := range subs {
				t.Errorf("subscriber %d: %d frames, %d key frames, %d audio packets", i, rc.frames, rc.keys, rc.audioPackets)
			}
			t.FailNow()
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, rc := range subs {
		rc.mu.Lock()
		if rc.gaps != 0 {
			t.Errorf("subscriber %d: %d sequence gaps on loopback", i, rc.gaps)
		}
		rc.mu.Unlock()
	}

	// The hub got whole VP8 frames with key flags.
	var units, keys int
	for units < 30 {
		select {
		case u := <-reader.C():
			if u.Track == 0 {
				units++
				if u.Key {
					keys++
				}
				if len(u.Payload) == 0 {
					t.Fatal("empty video unit")
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("hub: only %d video units", units)
		}
	}
	if keys == 0 {
		t.Fatal("hub: no key frame in 30 units")
	}

	// What subscriber 0 received decodes.
	subs[0].mu.Lock()
	_ = subs[0].ivf.Close()
	subs[0].mu.Unlock()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", subs[0].ivfPath, "-f", "framemd5", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
	if frames := strings.Count(string(out), "\n0,"); frames < 20 {
		t.Fatalf("decoded %d frames from the received stream:\n%s", frames, out)
	}
}
