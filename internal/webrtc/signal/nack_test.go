package signal_test

import (
	"context"
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// lossyConn loses chosen incoming RTP packets once: those of payload type
// pt (set once the subscription is negotiated) whose sequence number is a
// multiple of every, up to limit of them. The RTP header is in the clear
// under SRTP, so the choice needs no keys. It also counts incoming
// packets of payload type rtxPT: the retransmissions.
type lossyConn struct {
	net.PacketConn
	pt, rtxPT atomic.Int32
	every     uint16
	limit     int

	mu      sync.Mutex
	dropped map[uint16]bool
	rtx     int
}

func (c *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || n < 12 || b[0]>>6 != 2 {
			return n, addr, err
		}
		pt := int32(b[1] & 0x7f)
		if pt >= 64 && pt <= 95 { // RTCP (200-207 with the marker bit)
			return n, addr, err
		}
		seq := binary.BigEndian.Uint16(b[2:4])
		c.mu.Lock()
		if pt == c.rtxPT.Load() {
			c.rtx++
		}
		drop := pt == c.pt.Load() && seq%c.every == 0 && !c.dropped[seq] && len(c.dropped) < c.limit
		if drop {
			c.dropped[seq] = true
		}
		c.mu.Unlock()
		if !drop {
			return n, addr, err
		}
	}
}

// TestLostPacketsAreRetransmittedToSubscribers loses video packets on the
// way into a pion subscriber: its NACKs reach the SFU, which resends them
// as RTX (the negotiated video/rtx payload type on its own SSRC), and the
// subscriber's track reads every lost sequence number after all.
func TestLostPacketsAreRetransmittedToSubscribers(t *testing.T) {
	st := newStage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	pubTok, pid := st.token("pub", nil)
	video := vp8Track(t)
	pub, err := st.client(pubTok).Publish(ctx, video)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close(context.Background())
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { feedSynthetic(feedCtx, video) })
	defer func() { stopFeed(); wg.Wait() }()

	lossy := &lossyConn{every: 7, limit: 12, dropped: map[uint16]bool{}}
	lossy.pt.Store(-1)
	lossy.rtxPT.Store(-1)
	var mu sync.Mutex
	got := map[uint16]bool{}
	subTok, _ := st.token("viewer", nil)
	c := st.client(subTok)
	c.WrapUDP = func(pc net.PacketConn) net.PacketConn { lossy.PacketConn = pc; return lossy }
	sub, err := c.Subscribe(ctx, pid, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			got[pkt.SequenceNumber] = true
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close(context.Background())
	if err := sub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	// The payload types the subscription negotiated for VP8 and its RTX.
	var vp8PT webrtc.PayloadType
	rtxPT := webrtc.PayloadType(0)
	for _, tr := range sub.PC.GetTransceivers() {
		for _, codec := range tr.Receiver().GetParameters().Codecs {
			if strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8) && vp8PT == 0 {
				vp8PT = codec.PayloadType
			}
		}
	}
	for _, tr := range sub.PC.GetTransceivers() {
		for _, codec := range tr.Receiver().GetParameters().Codecs {
			if strings.EqualFold(codec.MimeType, webrtc.MimeTypeRTX) && codec.SDPFmtpLine == "apt="+strconv.Itoa(int(vp8PT)) {
				rtxPT = codec.PayloadType
			}
		}
	}
	if vp8PT == 0 || rtxPT == 0 {
		t.Fatalf("negotiated VP8 %d, RTX %d: want both", vp8PT, rtxPT)
	}
	lossy.rtxPT.Store(int32(rtxPT))
	lossy.pt.Store(int32(vp8PT))

	deadline := time.Now().Add(20 * time.Second)
	for {
		lossy.mu.Lock()
		var lost []uint16
		for seq := range lossy.dropped {
			lost = append(lost, seq)
		}
		rtx := lossy.rtx
		lossy.mu.Unlock()
		mu.Lock()
		var missing []uint16
		for _, seq := range lost {
			if !got[seq] {
				missing = append(missing, seq)
			}
		}
		mu.Unlock()
		// All lost packets come back on a quiet machine; on a loaded CI
		// runner pion's client can drop a repair (its RTX reader's queue
		// holds 50 packets, and its NACK generator, not knowing RTX,
		// keeps asking for repaired packets), so one of the twelve may
		// stay missing. Without retransmission none would come back.
		if len(lost) == lossy.limit && len(missing) <= 1 {
			t.Logf("%d packets lost on the way in, %d read after retransmission; %d RTX packets arrived", len(lost), len(lost)-len(missing), rtx)
			if rtx < len(lost) {
				t.Fatalf("%d RTX packets for %d losses: the repairs did not come as RTX", rtx, len(lost))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lost %d (want %d), still missing %v after retransmission (%d RTX packets arrived)", len(lost), lossy.limit, missing, rtx)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
