package rtmp

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
)

// BenchmarkRTMPIngest measures one 10 KB H.264 picture going through a
// loopback RTMP connection: gortmplib's client writing, this server
// reading, converting and writing the unit to a session (client and server
// share the CPU).
func BenchmarkRTMPIngest(b *testing.B) {
	sink := newFakeSink(testKey)
	s, err := New(Config{Addr: "127.0.0.1:0", Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-ran
	}()

	u, _ := url.Parse("rtmp://" + s.Addr().String() + "/app#" + testKey)
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	track := &gortmplib.Track{Codec: &codecs.H264{SPS: testSPS, PPS: testPPS}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		b.Fatal(err)
	}
	idr := append([]byte{0x65}, make([]byte, 10000)...)
	p := append([]byte{0x41}, make([]byte, 10000)...)
	frame := 0
	write := func() {
		au := [][]byte{p}
		if frame%60 == 0 {
			au = [][]byte{idr}
		}
		ts := time.Duration(frame) * time.Second / 30
		if err := w.WriteH264(track, ts, ts, au); err != nil {
			b.Fatal(err)
		}
		frame++
	}
	for range 70 { // past the 2 s track analysis
		write()
	}
	sess := waitSession(b, sink, 20*time.Second)
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	for b.Loop() {
		write()
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(sess.Snapshot()) < frame && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(sess.Snapshot()); n < frame {
		b.Fatalf("%d of %d units arrived", n, frame)
	}
}
