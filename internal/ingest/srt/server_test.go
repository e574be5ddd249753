package srt

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

const (
	testKey      = "sk_us-east-1_abcdEFGHijkl_0123456789abcdefghijABCDEFGHIJ"
	insecureKey  = "sk_us-east-1_insecureKey1_0123456789abcdefghijABCDEFGHIJ"
	testPass     = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01" // 64 base62, as channels get
	srtTimeoutUS = "5000000"
)

// testConfig gives the receiver a generous latency: under -race on a
// loaded machine gosrt's goroutines fall behind, and with the default
// 120 ms packets miss their delivery window.
func testConfig(sink *fakeSink, logs *logBuffer) Config {
	return Config{Sink: sink, Log: logs.Logger(), Latency: 500 * time.Millisecond}
}

func srtURL(srv *Server, streamID, passphrase string) string {
	q := url.Values{}
	q.Set("streamid", streamID)
	if passphrase != "" {
		q.Set("passphrase", passphrase)
	}
	q.Set("timeout", srtTimeoutUS)
	return fmt.Sprintf("srt://%s?%s", srv.Addr(), q.Encode())
}

func TestPublishFFmpeg(t *testing.T) {
	for _, tc := range []struct {
		name, key, pass, streamID string
	}{
		{"encrypted", testKey, testPass, testKey},
		{"insecure channel", insecureKey, "", insecureKey},
		{"access control stream id", testKey, testPass, "#!::r=" + testKey + ",m=publish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := newFakeSink(testKey, testPass, insecureKey, "")
			var logs logBuffer
			srv := startServer(t, testConfig(sink, &logs))
			res := runFFmpeg(t, append(ffmpegPublishArgs(4), "-f", "mpegts", srtURL(srv, tc.streamID, tc.pass))...)

			sess := waitSession(t, sink, 30*time.Second)
			r := waitFFmpeg(t, res, 60*time.Second)
			if r.Err != nil {
				t.Fatalf("ffmpeg: %v\n%s", r.Err, r.Stderr)
			}
			// ffmpeg's SRT shutdown is one UDP packet; when it is lost (a
			// loaded machine: gosrt's receive queue overflows) the idle
			// timeout ends the session instead, reported as a failure.
			if err := sess.WaitClosed(t, 20*time.Second); err != nil {
				if !strings.Contains(err.Error(), "no data for") {
					t.Errorf("Close(%v), want Close(nil) when the caller closes", err)
				}
				t.Logf("caller's shutdown lost, ended by the idle timeout: Close(%v)", err)
			}
			req := sess.Req
			if req.Protocol != ingest.SRT || req.StreamKey.Reveal() != tc.key || req.Passphrase.Reveal() != tc.pass {
				t.Errorf("request protocol %s, key match %v, passphrase match %v", req.Protocol,
					req.StreamKey.Reveal() == tc.key, req.Passphrase.Reveal() == tc.pass)
			}
			if !strings.HasPrefix(req.RemoteAddr, "127.0.0.1:") {
				t.Errorf("remote addr %q", req.RemoteAddr)
			}
			if len(req.Tracks) != 2 {
				t.Fatalf("tracks %v", req.Tracks)
			}
			v, a := req.Tracks[0], req.Tracks[1]
			if v.Kind != media.Video || v.Codec != media.H264 || v.Width != 1280 || v.Height != 720 ||
				v.ClockRate != 90000 || len(v.SPS) == 0 || len(v.PPS) == 0 || v.ID != 0 {
				t.Errorf("video track %+v", v)
			}
			if a.Kind != media.Audio || a.Codec != media.AAC || a.SampleRate != 48000 || a.ClockRate != 48000 ||
				a.Channels != 1 || len(a.AACConfig) == 0 || a.ID != 1 {
				t.Errorf("audio track %+v", a)
			}
			units := sess.Snapshot()
			logSpan(t, req.Tracks, units)
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			})
			// 4 s: 120 pictures and 187 AAC frames are sent. gosrt drops
			// what is still in its latency buffer (0.5 s here) when the
			// caller's shutdown arrives, and ffmpeg's TS muxer holds audio
			// back up to 0.7 s; on a loaded machine packets can also miss
			// the latency window. Require about 40% and a span of 1.5 s.
			checkUnits(t, req.Tracks, units, []int{45, 70})
			for i, tr := range req.Tracks {
				if span := media.Duration(lastDTS(units, i)-firstDTS(units, i), tr.ClockRate); span < 1500*time.Millisecond {
					t.Errorf("track %d spans %s, want >= 1.5s", i, span)
				}
			}
			for _, u := range units {
				if u.Track == 0 {
					for _, n := range u.NALUs {
						if len(n) >= 3 && n[0] == 0 && n[1] == 0 && (n[2] == 1 || n[2] == 0) {
							t.Fatal("NAL unit starts with a start code")
						}
					}
				} else if len(u.Payload) >= 2 && u.Payload[0] == 0xff && u.Payload[1]&0xf0 == 0xf0 {
					t.Fatal("AAC frame carries an ADTS header")
				}
			}
			if !units[0].Key || units[0].Track != 0 && !firstVideoKey(units) {
				t.Error("first video unit is not a key frame")
			}
			logs.WaitLog(t, "publish ended", 5*time.Second)
			if l := logs.String(); strings.Contains(l, testKey) || strings.Contains(l, insecureKey) || strings.Contains(l, testPass) {
				t.Error("stream key or passphrase in the log")
			}
		})
	}
}

func logSpan(t *testing.T, tracks []media.Track, units []*media.Unit) {
	for i, tr := range tracks {
		n, first, last := 0, int64(0), int64(0)
		for _, u := range units {
			if u.Track == i {
				if n == 0 {
					first = u.DTS
				}
				last = u.DTS
				n++
			}
		}
		t.Logf("track %d %s: %d units, DTS %s .. %s", i, tr, n, media.Duration(first, tr.ClockRate), media.Duration(last, tr.ClockRate))
	}
}

func firstDTS(units []*media.Unit, track int) int64 {
	for _, u := range units {
		if u.Track == track {
			return u.DTS
		}
	}
	return 0
}

func lastDTS(units []*media.Unit, track int) int64 {
	var last int64
	for _, u := range units {
		if u.Track == track {
			last = u.DTS
		}
	}
	return last
}

func firstVideoKey(units []*media.Unit) bool {
	for _, u := range units {
		if u.Track == 0 {
			return u.Key
		}
	}
	return false
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, streamID, pass, reason string
	}{
		{"unknown key", "sk_us-east-1_nosuchkey", testPass, ingest.ErrUnknownStreamKey.Error()},
		{"wrong passphrase", testKey, "wrongwrongwrongwrongwrong", "wrong SRT passphrase"},
		{"missing passphrase", testKey, "", "requires SRT encryption"},
		{"passphrase on insecure channel", insecureKey, testPass, "has no SRT passphrase"},
		{"request mode", "#!::r=" + testKey + ",m=request", testPass, "other than publish"},
		{"bad stream id", "live/" + testKey, testPass, "stream key has characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := newFakeSink(testKey, testPass, insecureKey, "")
			var logs logBuffer
			srv := startServer(t, testConfig(sink, &logs))
			r := waitFFmpeg(t, runFFmpeg(t, append(ffmpegPublishArgs(3), "-f", "mpegts", srtURL(srv, tc.streamID, tc.pass))...), 30*time.Second)
			if r.Err == nil || !isExitError(r.Err) {
				t.Fatalf("ffmpeg exit %v, want a non-zero exit", r.Err)
			}
			logs.WaitLog(t, "publish refused", 5*time.Second)
			if !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("log does not name the reason %q:\n%s", tc.reason, logs.String())
			}
			if !strings.Contains(logs.String(), "remote_addr=127.0.0.1:") {
				t.Errorf("log has no remote_addr:\n%s", logs.String())
			}
			if l := logs.String(); strings.Contains(l, testKey) || strings.Contains(l, "nosuchkey") || strings.Contains(l, testPass) {
				t.Error("stream key or passphrase in the log")
			}
			if calls, _ := sink.PublishCalls(); calls != 0 {
				t.Errorf("%d Publish calls", calls)
			}
		})
	}
}

func TestSecondPublisherRefused(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey, testPass)
	var logs logBuffer
	srv := startServer(t, testConfig(sink, &logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	u := srtURL(srv, testKey, testPass)
	_, killFirst := startFFmpeg(t, append(ffmpegPublishArgs(30), "-f", "mpegts", u)...)
	sess := waitSession(t, sink, 30*time.Second)

	r := waitFFmpeg(t, runFFmpeg(t, append(ffmpegPublishArgs(10), "-f", "mpegts", u)...), 40*time.Second)
	if r.Err == nil {
		t.Error("second publisher: ffmpeg exited 0, want a refusal")
	}
	logs.WaitLog(t, ingest.ErrChannelBusy.Error(), 5*time.Second)
	if calls, n := sink.PublishCalls(); calls != 2 || n != 1 {
		t.Fatalf("Publish calls %d sessions %d, want 2 and 1", calls, n)
	}
	select {
	case <-sess.Closed:
		t.Fatal("first session closed by the second publisher")
	default:
	}
	// SIGKILL: no SRT shutdown; the peer idle timeout notices.
	killFirst()
	if err := sess.WaitClosed(t, 30*time.Second); err == nil {
		t.Error("Close(nil) for a caller that vanished, want an error")
	}
}

func TestSessionDoneDropsConnection(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey, testPass)
	var logs logBuffer
	srv := startServer(t, testConfig(sink, &logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	res := runFFmpeg(t, append(ffmpegPublishArgs(60), "-f", "mpegts", srtURL(srv, testKey, testPass))...)
	sess := waitSession(t, sink, 30*time.Second)
	sess.Stop()
	r := waitFFmpeg(t, res, 30*time.Second)
	if r.Err == nil {
		t.Error("ffmpeg exited 0 after the server dropped it")
	}
	if err := sess.WaitClosed(t, 10*time.Second); err != nil {
		t.Errorf("Close(%v) after Done, want nil (the server asked)", err)
	}
	logs.WaitLog(t, "stopped by the server", 5*time.Second)
}

func TestSilentCallerDropped(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey, testPass)
	var logs logBuffer
	cfg := testConfig(sink, &logs)
	cfg.HandshakeTimeout = time.Second
	srv := startServer(t, cfg)
	dc := gosrt.DefaultConfig()
	dc.StreamId = testKey
	dc.Passphrase = testPass
	conn, err := gosrt.Dial("srt", srv.Addr().String(), dc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// Connected, encrypted, but no transport stream: dropped after the
	// handshake timeout, before any Publish.
	logs.WaitLog(t, "no codec configuration", 10*time.Second)
	if calls, _ := sink.PublishCalls(); calls != 0 {
		t.Errorf("%d Publish calls", calls)
	}
	done := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1500))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("read data from a dropped connection")
		}
	case <-time.After(10 * time.Second):
		t.Error("connection still open 10s after the refusal")
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey, testPass)
	var logs logBuffer
	cfg := testConfig(sink, &logs)
	cfg.MaxConns = 1
	srv := startServer(t, cfg)
	dc := gosrt.DefaultConfig()
	dc.StreamId = testKey
	dc.Passphrase = testPass
	first, err := gosrt.Dial("srt", srv.Addr().String(), dc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Close() }()
	second, err := gosrt.Dial("srt", srv.Addr().String(), dc)
	if err == nil {
		_ = second.Close()
		t.Fatal("second caller accepted beyond max_conns 1")
	}
	logs.WaitLog(t, "too many connections (max 1)", 5*time.Second)
}
