package rtmp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

const testKey = "sk_us-east-1_abcdEFGHijkl_0123456789abcdefghijABCDEFGHIJ"

func TestPublishFFmpeg(t *testing.T) {
	t.Parallel()
	cert, err := TLSConfig("", "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		secure bool
	}{
		{"rtmp", false},
		{"rtmps", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := newFakeSink(testKey)
			var logs logBuffer
			cfg := Config{Sink: sink, Log: logs.Logger()}
			scheme, want, extra := "rtmp", ingest.RTMP, []string{}
			if tc.secure {
				cfg.TLS = cert
				scheme, want, extra = "rtmps", ingest.RTMPS, []string{"-tls_verify", "0"}
			}
			srv := startServer(t, cfg)
			url := fmt.Sprintf("%s://%s/app/%s", scheme, srv.Addr(), testKey)
			args := append(ffmpegPublishArgs(3), extra...)
			res := runFFmpeg(t, append(args, "-f", "flv", url)...)

			sess := waitSession(t, sink, 30*time.Second)
			r := waitFFmpeg(t, res, 60*time.Second)
			if r.Err != nil {
				t.Fatalf("ffmpeg: %v\n%s", r.Err, r.Stderr)
			}
			if err := sess.WaitClosed(t, 10*time.Second); err != nil {
				t.Errorf("Close(%v), want Close(nil) after a clean unpublish", err)
			}

			req := sess.Req
			if req.Protocol != want || req.StreamKey.Reveal() != testKey {
				t.Errorf("request protocol %s key match %v", req.Protocol, req.StreamKey.Reveal() == testKey)
			}
			if !strings.HasPrefix(req.RemoteAddr, "127.0.0.1:") {
				t.Errorf("remote addr %q", req.RemoteAddr)
			}
			if !strings.HasPrefix(req.Encoder, "Lavf") {
				t.Errorf("encoder %q, want ffmpeg's Lavf...", req.Encoder)
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
			// 3 s: 90 pictures, 140 AAC frames; allow for the encoder's start.
			checkUnits(t, req.Tracks, sess.Snapshot(), []int{85, 130})
			units := sess.Snapshot()
			a0 := firstAudio(units)
			for _, u := range units {
				if u.Track == 0 {
					for _, n := range u.NALUs {
						if len(n) >= 3 && n[0] == 0 && n[1] == 0 && (n[2] == 1 || n[2] == 0) {
							t.Fatal("NAL unit starts with a start code")
						}
					}
				}
				if u.Track == 1 && (u.DTS-a0)%1024 != 0 {
					t.Fatalf("AAC DTS %d not on the 1024-sample grid", u.DTS)
				}
			}
			logs.WaitLog(t, "publish ended", 5*time.Second)
			if strings.Contains(logs.String(), testKey) {
				t.Error("stream key in the log")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		path   string
		play   bool
		reason string
	}{
		{"unknown key", "/app/sk_us-east-1_nosuchkey", false, ingest.ErrUnknownStreamKey.Error()},
		{"wrong app", "/live/" + testKey, false, "application name"},
		{"no key", "/app/", false, "no stream key"},
		{"play", "/app/" + testKey, true, "play requested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := newFakeSink(testKey)
			var logs logBuffer
			srv := startServer(t, Config{Sink: sink, Log: logs.Logger()})
			url := fmt.Sprintf("rtmp://%s%s", srv.Addr(), tc.path)
			var args []string
			if tc.play {
				args = []string{"-hide_banner", "-loglevel", "error", "-rw_timeout", "5000000", "-i", url, "-t", "1", "-f", "null", "-"}
			} else {
				args = append(ffmpegPublishArgs(3), "-f", "flv", url)
			}
			r := waitFFmpeg(t, runFFmpeg(t, args...), 30*time.Second)
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
			if strings.Contains(logs.String(), testKey) || strings.Contains(logs.String(), "nosuchkey") {
				t.Error("stream key in the log")
			}
			if _, n := sink.PublishCalls(); n != 0 {
				t.Errorf("%d sessions created", n)
			}
		})
	}
}

func TestSecondPublisherRefusedAndDropReported(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey)
	var logs logBuffer
	srv := startServer(t, Config{Sink: sink, Log: logs.Logger()})
	url := fmt.Sprintf("rtmp://%s/app/%s", srv.Addr(), testKey)

	_, killFirst := startFFmpeg(t, append(ffmpegPublishArgs(30), "-f", "flv", url)...)
	sess := waitSession(t, sink, 30*time.Second)

	r := waitFFmpeg(t, runFFmpeg(t, append(ffmpegPublishArgs(5), "-f", "flv", url)...), 40*time.Second)
	if r.Err == nil {
		t.Fatal("second publisher: ffmpeg exited 0, want a refusal")
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

	// The first publisher vanishes without unpublishing: a failure.
	killFirst()
	if err := sess.WaitClosed(t, 20*time.Second); err == nil {
		t.Fatal("Close(nil) for a dropped connection, want an error")
	}
}

func firstAudio(units []*media.Unit) int64 {
	for _, u := range units {
		if u.Track == 1 {
			return u.DTS
		}
	}
	return 0
}

func TestSessionDoneDropsConnection(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey)
	var logs logBuffer
	srv := startServer(t, Config{Sink: sink, Log: logs.Logger()})
	url := fmt.Sprintf("rtmp://%s/app/%s", srv.Addr(), testKey)
	res := runFFmpeg(t, append(ffmpegPublishArgs(60), "-f", "flv", url)...)
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

func TestSilentClientTimesOut(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey)
	srv := startServer(t, Config{Sink: sink, HandshakeTimeout: time.Second})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept a silent connection open past its handshake timeout")
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	sink := newFakeSink(testKey)
	var logs logBuffer
	srv := startServer(t, Config{Sink: sink, MaxConns: 1, HandshakeTimeout: 20 * time.Second, Log: logs.Logger()})
	c1, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c1.Close() }()
	c2, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c2.Close() }()
	_ = c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c2); err != nil {
		t.Fatalf("second connection not closed: %v", err)
	}
	logs.WaitLog(t, "too many connections", 5*time.Second)
}
