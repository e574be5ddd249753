package live_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/live"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

var identity = model.Identity{Region: "us-east-1", AccountID: "123456789012", PublicHost: "127.0.0.1",
	RTMPPort: 1935, RTMPSPort: 4443, SRTPort: 9000, MediaBaseURL: "http://127.0.0.1:8081"}

var tracks = []media.Track{
	{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, Width: 1280, Height: 720,
		SPS: []byte{0x67, 0x64, 0x00, 0x1f, 0xac}, PPS: []byte{0x68}},
	{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, SampleRate: 48000, Channels: 2, AACConfig: []byte{0x11, 0x90}},
}

// events records published events (a neighbour in this unit test).
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) Publish(_ context.Context, detailType string, _ []string, detail map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, detail["event_name"].(string))
}

func (e *events) names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

// pipeline reads the hub like a packager would.
type pipeline struct {
	units    chan *media.Unit
	done     chan struct{}
	metadata []string
	closed   atomic.Bool
}

func (p *pipeline) InsertMetadata(s string) error { p.metadata = append(p.metadata, s); return nil }
func (p *pipeline) Viewers() int                  { return 7 }
func (p *pipeline) Close()                        { <-p.done; p.closed.Store(true) }

type fixture struct {
	svc    *channels.Service
	m      *live.Manager
	ev     *events
	pls    chan *pipeline
	ch     *ivsapi.Channel
	key    string
	cancel context.CancelFunc
	ran    chan struct{}
}

func setup(t *testing.T, window time.Duration, chType string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{ev: &events{}, pls: make(chan *pipeline, 10), ran: make(chan struct{})}
	f.svc = channels.New(control.Deps{Store: st, Identity: identity})
	out, err := f.svc.CreateChannel(ctx, &ivsapi.CreateChannelRequest{Name: ptr("live"), Type: &chType})
	require.NoError(t, err)
	f.ch, f.key = out.Channel, *out.StreamKey.Value
	f.m = live.NewManager(live.Config{
		Channels: f.svc, Events: f.ev, ReconnectWindow: window,
		Pipeline: func(_ context.Context, s *live.Session) (live.Pipeline, error) {
			p := &pipeline{units: make(chan *media.Unit, 1000), done: make(chan struct{})}
			r := s.Hub.NewReader("test", 1000)
			go func() {
				defer close(p.done)
				for u := range r.C() {
					p.units <- u
				}
			}()
			f.pls <- p
			return p, nil
		},
	})
	f.svc.SetLive(f.m)
	runCtx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	go func() { defer close(f.ran); _ = f.m.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-f.ran })
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) publish(t *testing.T) ingest.Session {
	t.Helper()
	s, err := f.m.Publish(context.Background(), ingest.Request{Protocol: ingest.RTMPS, StreamKey: auth.Secret(f.key), Tracks: tracks, Encoder: "obs"})
	require.NoError(t, err)
	return s
}

func send(s ingest.Session, from, n int) {
	for i := from; i < from+n; i++ {
		s.Write(&media.Unit{Track: 0, PTS: int64(i) * 3000, DTS: int64(i) * 3000, Key: i%30 == 0, NALUs: [][]byte{make([]byte, 1000)}})
		s.Write(&media.Unit{Track: 1, PTS: int64(i) * 1600, DTS: int64(i) * 1600, Key: true, Payload: make([]byte, 100)})
	}
}

func TestPublishStreamsIntoPipelineAndAPI(t *testing.T) {
	f := setup(t, 0, "BASIC")
	ctx := context.Background()
	s := f.publish(t)
	pl := <-f.pls
	send(s, 0, 60)
	for range 120 {
		<-pl.units
	}

	got, err := f.svc.GetStream(ctx, &ivsapi.GetStreamRequest{ChannelArn: f.ch.Arn})
	require.NoError(t, err)
	require.Equal(t, "LIVE", *got.Stream.State)
	require.Equal(t, "HEALTHY", *got.Stream.Health)
	require.EqualValues(t, 7, *got.Stream.ViewerCount)
	require.Equal(t, *f.ch.PlaybackUrl, *got.Stream.PlaybackUrl)

	require.NoError(t, f.svc.PutMetadata(ctx, &ivsapi.PutMetadataRequest{ChannelArn: f.ch.Arn, Metadata: ptr("hello")}))
	require.Equal(t, []string{"hello"}, pl.metadata)

	// A second publisher is refused while the first is live.
	_, err = f.m.Publish(ctx, ingest.Request{Protocol: ingest.SRT, StreamKey: auth.Secret(f.key), Tracks: tracks})
	require.ErrorIs(t, err, ingest.ErrChannelBusy)

	s.Close(nil)
	require.Eventually(t, func() bool { return pl.closed.Load() }, 5*time.Second, 10*time.Millisecond)
	_, err = f.svc.GetStream(ctx, &ivsapi.GetStreamRequest{ChannelArn: f.ch.Arn})
	var nb *model.NotBroadcastingError
	require.ErrorAs(t, err, &nb)

	sess, err := f.svc.GetStreamSession(ctx, &ivsapi.GetStreamSessionRequest{ChannelArn: f.ch.Arn})
	require.NoError(t, err)
	require.NotNil(t, sess.StreamSession.EndTime)
	v := sess.StreamSession.IngestConfigurations.VideoConfigurations[0]
	require.Equal(t, "avc1.64001f", *v.Codec)
	require.EqualValues(t, 1280, *v.VideoWidth)
	require.Equal(t, "High", *v.Profile)
	require.Equal(t, "3.1", *v.Level)
	require.Equal(t, "mp4a.40.2", *sess.StreamSession.IngestConfigurations.AudioConfigurations[0].Codec)
	var names []string
	for _, e := range sess.StreamSession.TruncatedEvents {
		names = append(names, *e.Name)
	}
	require.Equal(t, []string{"Stream End", "Stream Start", "Session Created"}, names)
	require.Equal(t, []string{"Session Created", "Stream Start", "Stream End"}, f.ev.names())
}

func TestUnknownKeyAndUnsupportedCodec(t *testing.T) {
	f := setup(t, 0, "STANDARD")
	ctx := context.Background()
	_, err := f.m.Publish(ctx, ingest.Request{StreamKey: "sk_us-east-1_nope", Tracks: tracks})
	require.ErrorIs(t, err, ingest.ErrUnknownStreamKey)
	_, err = f.m.SRTPassphrase(ctx, "sk_us-east-1_nope")
	require.ErrorIs(t, err, ingest.ErrUnknownStreamKey)
	pass, err := f.m.SRTPassphrase(ctx, auth.Secret(f.key))
	require.NoError(t, err)
	require.Equal(t, *f.ch.Srt.Passphrase, pass.Reveal())

	hevc := []media.Track{{Kind: media.Video, Codec: media.H265, ClockRate: 90000}}
	_, err = f.m.Publish(ctx, ingest.Request{StreamKey: auth.Secret(f.key), Tracks: hevc})
	require.ErrorIs(t, err, ingest.ErrUnsupported)
	require.Contains(t, err.Error(), "BASIC")
	require.Equal(t, []string{"Stream Failure"}, f.ev.names())
}

func TestReconnectWithinWindowContinuesSession(t *testing.T) {
	f := setup(t, 3*time.Second, "BASIC")
	ctx := context.Background()
	s := f.publish(t)
	pl := <-f.pls
	send(s, 0, 30)
	for range 60 {
		<-pl.units
	}
	first, _ := f.m.Session(*f.ch.Arn)
	s.Close(errors.New("connection reset"))
	require.False(t, f.m.IsLive(*f.ch.Arn))

	s2 := f.publish(t) // comes back; its clock starts again at 0
	select {
	case <-f.pls:
		t.Fatal("a reconnect must not start a new pipeline")
	default:
	}
	second, _ := f.m.Session(*f.ch.Arn)
	require.Same(t, first, second)
	send(s2, 0, 2)
	u := <-pl.units
	require.True(t, u.Discontinuity)
	require.EqualValues(t, 30*3000, u.DTS, "video continues one frame after the last")
	a := <-pl.units
	require.True(t, a.Discontinuity)
	require.EqualValues(t, 30*1600, a.DTS, "audio shifted by the same offset")
	u = <-pl.units
	require.False(t, u.Discontinuity)

	s2.Close(nil)
	require.Eventually(t, func() bool { return pl.closed.Load() }, 8*time.Second, 20*time.Millisecond, "session ends after the window")
	list, err := f.svc.ListStreamSessions(ctx, &ivsapi.ListStreamSessionsRequest{ChannelArn: f.ch.Arn})
	require.NoError(t, err)
	require.Len(t, list.StreamSessions, 1)
}

func TestStopStreamKicksPublisher(t *testing.T) {
	f := setup(t, time.Minute, "BASIC")
	ctx := context.Background()
	s := f.publish(t)
	pl := <-f.pls
	_, err := f.svc.StopStream(ctx, &ivsapi.StopStreamRequest{ChannelArn: f.ch.Arn})
	require.NoError(t, err)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("publisher not told to go")
	}
	require.True(t, pl.closed.Load(), "StopStream ends the session without a reconnect window")
	s.Close(errors.New("closed by server"))
	_, err = f.m.Publish(ctx, ingest.Request{StreamKey: auth.Secret(f.key), Tracks: tracks})
	require.NoError(t, err, "a new publish after StopStream starts a new session")
	<-f.pls
}

func TestShutdownEndsSessions(t *testing.T) {
	f := setup(t, time.Minute, "BASIC")
	s := f.publish(t)
	pl := <-f.pls
	f.cancel()
	<-f.ran
	require.True(t, pl.closed.Load())
	select {
	case <-s.Done():
	default:
		t.Fatal("publisher still attached after shutdown")
	}
	_, err := f.m.Publish(context.Background(), ingest.Request{StreamKey: auth.Secret(f.key), Tracks: tracks})
	require.Error(t, err)
}

func TestPublishInternal(t *testing.T) {
	f := setup(t, 0, "BASIC")
	s, err := f.m.PublishInternal(context.Background(), *f.ch.Arn, tracks)
	require.NoError(t, err)
	pl := <-f.pls
	send(s, 0, 1)
	<-pl.units
	require.True(t, f.m.IsLive(*f.ch.Arn))
	_, err = f.m.PublishInternal(context.Background(), *f.ch.Arn, tracks)
	require.ErrorIs(t, err, ingest.ErrChannelBusy)
	_, err = f.m.PublishInternal(context.Background(), *f.ch.Arn+"x", tracks)
	var nf *model.NotFoundError
	require.ErrorAs(t, err, &nf)
	s.Close(nil)
}

func TestPlainRTMPNeedsInsecureIngest(t *testing.T) {
	f := setup(t, 0, "BASIC")
	ctx := context.Background()
	_, err := f.m.Publish(ctx, ingest.Request{Protocol: ingest.RTMP, StreamKey: auth.Secret(f.key), Tracks: tracks})
	require.ErrorIs(t, err, live.ErrInsecureIngest)
	_, err = f.svc.UpdateChannel(ctx, &ivsapi.UpdateChannelRequest{Arn: f.ch.Arn, InsecureIngest: ptr(true)})
	require.NoError(t, err)
	s, err := f.m.Publish(ctx, ingest.Request{Protocol: ingest.RTMP, StreamKey: auth.Secret(f.key), Tracks: tracks})
	require.NoError(t, err)
	<-f.pls
	s.Close(nil)
}
