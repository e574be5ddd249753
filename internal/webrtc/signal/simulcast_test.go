package signal_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// sendLayer sends synthetic VP8 packets for one simulcast layer: a key
// frame every second, payload byte 2 = the layer id.
func sendLayer(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, id byte, packetsPerFrame int, ext simExt) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var seq uint16
	for frame := uint32(0); ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i := range packetsPerFrame {
			pl := make([]byte, 1000)
			pl[1], pl[2] = 0x01, id
			if i == 0 {
				pl[0] = 0x10
				if frame%30 == 0 {
					pl[1] = 0x00
				}
			}
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: frame * 3000,
				Marker: i == packetsPerFrame-1}, Payload: pl}
			// pion leaves the mid and rid extensions to the writer (browsers add them).
			_ = pkt.Header.SetExtension(ext.midID, []byte(ext.mid))
			_ = pkt.Header.SetExtension(ext.ridID, []byte(tr.RID()))
			_ = tr.WriteRTP(pkt)
			seq++
		}
	}
}

type simExt struct {
	mid          string
	midID, ridID uint8
}

func TestSimulcastLayersForwardedAsOneContinuousStream(t *testing.T) {
	st := newStage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	tok, pid := st.token("sim", nil)
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	lo, err := webrtc.NewTrackLocalStaticRTP(codec, "video", "sim", webrtc.WithRTPStreamID("q"))
	if err != nil {
		t.Fatal(err)
	}
	hi, err := webrtc.NewTrackLocalStaticRTP(codec, "video", "sim", webrtc.WithRTPStreamID("f"))
	if err != nil {
		t.Fatal(err)
	}
	obsTok, _ := st.token("observer", nil)
	obs, err := st.client(obsTok).Events(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	pub, err := st.client(tok).PublishSimulcast(ctx, lo, hi)
	if err != nil {
		t.Fatalf("publish simulcast: %v", err)
	}
	defer pub.Close(context.Background())
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	var ext simExt
	for _, tr := range pub.PC.GetTransceivers() {
		ext.mid = tr.Mid()
		for _, e := range tr.Sender().GetParameters().HeaderExtensions {
			switch e.URI {
			case sdp.SDESMidURI:
				ext.midID = uint8(e.ID)
			case sdp.SDESRTPStreamIDURI:
				ext.ridID = uint8(e.ID)
			}
		}
	}
	if ext.midID == 0 || ext.ridID == 0 {
		t.Fatalf("mid/rid extensions not negotiated: %+v", ext)
	}
	sendCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sendLayer(sendCtx, lo, 'q', 1, ext) })
	wg.Go(func() { sendLayer(sendCtx, hi, 'f', 6, ext) })
	defer func() { stop(); wg.Wait() }()

	ev, err := obs.Next(ctx, sfu.EventPublished)
	if err != nil {
		t.Fatal(err)
	}
	if tr := ev.Participant.Tracks; len(tr) != 1 || len(tr[0].Layers) != 2 {
		t.Fatalf("published tracks %+v, want one video track with 2 layers", tr)
	}

	var mu sync.Mutex
	layers := map[byte]int{}
	var ssrcs = map[uint32]bool{}
	gaps, packets := 0, 0
	firstKey := false
	subTok, _ := st.token("viewer", nil)
	sub, err := st.client(subTok).Subscribe(ctx, pid, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		last := -1
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			if packets == 0 {
				firstKey = len(pkt.Payload) > 1 && pkt.Payload[0] == 0x10 && pkt.Payload[1] == 0
			}
			packets++
			ssrcs[pkt.SSRC] = true
			if len(pkt.Payload) > 2 {
				layers[pkt.Payload[2]]++
			}
			if last >= 0 && pkt.SequenceNumber != uint16(last+1) {
				gaps++
			}
			last = int(pkt.SequenceNumber)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := packets
		mu.Unlock()
		if n >= 600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber got %d packets", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("packets per layer %v, gaps %d", layers, gaps)
	if !firstKey {
		t.Fatal("the subscriber's stream did not start with a key frame")
	}
	if len(ssrcs) != 1 {
		t.Fatalf("subscriber saw SSRCs %v, want one", ssrcs)
	}
	if gaps != 0 {
		t.Fatalf("%d sequence gaps across layer switches", gaps)
	}
	if layers['q']+layers['f'] != packets {
		t.Fatalf("foreign packets: %v of %d", layers, packets)
	}
}
