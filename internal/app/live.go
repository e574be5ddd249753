package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/ingest/rtmp"
	"github.com/stagecast/stagecast/internal/ingest/srt"
	"github.com/stagecast/stagecast/internal/live"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/obs"
	"github.com/stagecast/stagecast/internal/origin"
	"github.com/stagecast/stagecast/internal/packager/cmaf"
	"github.com/stagecast/stagecast/internal/recording"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
	"github.com/stagecast/stagecast/internal/transcode"
)

// wireLive builds ingest (RTMP, RTMPS, SRT), live sessions, packaging, the
// playback origin and recording.
func (a *App) wireLive(ctx context.Context) error {
	cfg := a.cfg
	log := a.log
	a.recorder = recording.NewManager(a.recordingConfig(), a.Events, log) // it adds its component
	a.goRun("recording", a.recorder.Run)

	a.segs = segstore.New(segstore.Options{
		PartTarget: cfg.Playback.PartTarget, SegmentTarget: cfg.Playback.SegmentTarget,
		WindowSegments: cfg.Playback.WindowSegments, Log: log,
	})
	a.origin = origin.New(origin.Options{
		Store: a.segs, Authorizer: playbackAccess{live.NewAccess(a.Channels, nil)},
		BlockTimeout: cfg.Playback.BlockTimeout, ViewerWindow: cfg.Playback.ViewerWindow,
		Log: log,
	})
	a.origin.Register(a.mux)

	a.Live = live.NewManager(live.Config{
		Channels: a.Channels, Pipeline: a.newPipeline, Events: a.Events,
		Log: obs.Component(log, "live"), ReconnectWindow: cfg.Ingest.ReconnectWindow,
	})
	a.Channels.SetLive(a.Live)
	a.goRun("live sessions", a.Live.Run)

	rtmpLog := log // the ingest servers add their component
	rtmpSrv, err := rtmp.New(rtmp.Config{
		Listener: a.rtmpLn, Sink: a.Live, Log: rtmpLog, MaxConns: cfg.Ingest.MaxPublishers,
		HandshakeTimeout: cfg.Ingest.HandshakeTimeout, ReadTimeout: cfg.Ingest.ReadTimeout,
	})
	if err != nil {
		return fmt.Errorf("rtmp: %w", err)
	}
	a.goRun("rtmp ingest", rtmpSrv.Run)
	tlsCfg, err := rtmp.TLSConfig(cfg.Ingest.TLSCert, cfg.Ingest.TLSKey, cfg.PublicHost, "127.0.0.1", "localhost")
	if err != nil {
		return fmt.Errorf("rtmps certificate: %w", err)
	}
	rtmpsSrv, err := rtmp.New(rtmp.Config{
		Listener: a.rtmpsLn, TLS: tlsCfg, Sink: a.Live, Log: rtmpLog, MaxConns: cfg.Ingest.MaxPublishers,
		HandshakeTimeout: cfg.Ingest.HandshakeTimeout, ReadTimeout: cfg.Ingest.ReadTimeout,
	})
	if err != nil {
		return fmt.Errorf("rtmps: %w", err)
	}
	a.goRun("rtmps ingest", rtmpsSrv.Run)
	srtSrv, err := srt.New(srt.Config{
		Addr: a.srtAddr, Sink: a.Live, Log: log, MaxConns: cfg.Ingest.MaxPublishers,
		HandshakeTimeout: cfg.Ingest.HandshakeTimeout, ReadTimeout: cfg.Ingest.ReadTimeout, Latency: cfg.Ingest.SRTLatency,
	})
	if err != nil {
		return fmt.Errorf("srt: %w", err)
	}
	a.goRun("srt ingest", srtSrv.Run)
	_ = ctx
	return nil
}

func (a *App) recordingConfig() recording.Config {
	rc := recording.ConfigFrom(a.cfg.Recording, a.cfg.DataDir)
	rc.Thumbnailer = recording.FFmpegThumbnailer{Transcode: a.cfg.Transcode, Log: a.log}
	return rc
}

// playbackAccess maps an unknown channel to the origin's 404.
type playbackAccess struct{ *live.Access }

func (p playbackAccess) Authorize(r *http.Request, channelARN string) error {
	err := p.Access.Authorize(r, channelARN)
	var nf *model.NotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s", origin.ErrUnknownChannel, channelARN)
	}
	return err
}

// pipeline is what one stream session feeds: the ladder (when the channel
// transcodes), one segmenter per rendition into the segment store, and the
// recorder. It owns every goroutine it starts.
type pipeline struct {
	a        *App
	s        *live.Session
	seg      *segstore.Channel
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	ladderWG sync.WaitGroup

	mu         sync.Mutex
	segmenters []*cmaf.Segmenter
	recording  bool
}

// newPipeline is the live.PipelineFactory.
func (a *App) newPipeline(_ context.Context, s *live.Session) (live.Pipeline, error) {
	ch := s.Channel
	src := transcode.Source{}
	for _, t := range s.Tracks {
		if t.Kind == media.Video {
			src = transcode.Source{Width: t.Width, Height: t.Height, HasVideo: true}
			break
		}
	}
	plan, err := transcode.Plan(deref(ch.Type), deref(ch.Preset), src)
	if err != nil {
		return nil, err
	}
	mode := segstore.Low
	if deref(ch.LatencyMode) == "NORMAL" {
		mode = segstore.Normal
	}
	container := segstore.TS
	if deref(ch.ContainerFormat) == "FRAGMENTED_MP4" {
		container = segstore.FMP4
	}
	ladder, err := transcode.NewLadder(a.cfg.Transcode, s.Hub, plan, a.log.With("channel_arn", s.ChannelARN()))
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{a: a, s: s, seg: a.segs.Open(s.ChannelARN(), mode, container), cancel: cancel}
	if len(transcode.Transcoded(plan)) == 0 {
		// Nothing to encode: the renditions read the source hub, and no
		// ladder runs (it would only wait for the pipeline to be cancelled,
		// holding Close up).
		for i, r := range plan {
			p.addRendition(pctx, r, ladder.Hub(i))
		}
		p.startRecording(plan, ladder)
		return p, nil
	}
	ladderDone := make(chan struct{})
	p.ladderWG.Go(func() {
		defer close(ladderDone)
		if err := ladder.Run(pctx); err != nil {
			a.log.Warn("transcoder stopped", "channel_arn", s.ChannelARN(), "err", err)
		}
	})
	// A transcoded channel publishes its renditions together once the
	// encoder has produced the first key frame of each, so the
	// multivariant playlist (which players read once) lists the whole
	// ladder from the start. If the encoder cannot start, the source alone
	// is served after ladderWait.
	p.wg.Go(func() {
		timer := time.NewTimer(ladderWait)
		defer timer.Stop()
		select {
		case <-ladder.Ready():
		case <-ladderDone:
		case <-timer.C:
			a.log.Warn("transcoder not ready, serving the source only for now", "channel_arn", s.ChannelARN(), "waited", ladderWait)
		case <-pctx.Done():
			return
		}
		for i, r := range plan {
			if h := ladder.Hub(i); h != nil {
				p.addRendition(pctx, r, h)
			}
		}
		p.startRecording(plan, ladder)
	})
	return p, nil
}

// ladderWait bounds how long a transcoded channel's playback waits for the
// encoder before it serves the source alone.
const ladderWait = 8 * time.Second

func (p *pipeline) addRendition(ctx context.Context, r transcode.Rendition, hub *stream.Hub) {
	log := obs.Component(p.a.log, "live").With("channel_arn", p.s.ChannelARN(), "rendition", r.Name)
	rend, err := p.seg.AddRendition(r.Name, segstore.RenditionInfo{Tracks: hub.Tracks(), Bandwidth: r.VideoBitrate + r.AudioBitrate, FrameRate: float64(r.FPS)})
	if err != nil {
		log.Warn("add rendition", "err", err)
		return
	}
	sg, err := cmaf.New(hub.NewReader("segmenter "+r.Name, 0), hub.Tracks(), rend, cmaf.Options{Log: p.a.log})
	if err != nil {
		log.Warn("segmenter", "err", err)
		return
	}
	p.mu.Lock()
	p.segmenters = append(p.segmenters, sg)
	p.mu.Unlock()
	p.wg.Go(func() {
		if err := sg.Run(ctx); err != nil && ctx.Err() == nil {
			log.Warn("segmenter stopped", "err", err)
		}
	})
}

func (p *pipeline) startRecording(plan []transcode.Rendition, ladder *transcode.Ladder) {
	arn := deref(p.s.Channel.RecordingConfigurationArn)
	if arn == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := p.a.Channels.GetRecordingConfiguration(ctx, &ivsapi.GetRecordingConfigurationRequest{Arn: &arn})
	if err != nil {
		p.a.log.Warn("recording configuration", "channel_arn", p.s.ChannelARN(), "err", err)
		return
	}
	info := recording.StreamInfo{
		ChannelARN: p.s.ChannelARN(), ChannelName: deref(p.s.Channel.Name), StreamID: p.s.StreamID,
		RecordingConfig: rc.RecordingConfiguration,
	}
	for i, r := range plan {
		if h := ladder.Hub(i); h != nil {
			info.Renditions = append(info.Renditions, recording.Rendition{Name: r.Name, Width: r.Width, Height: r.Height,
				Bandwidth: r.VideoBitrate + r.AudioBitrate, Hub: h})
		}
	}
	if _, err := p.a.recorder.StreamStarted(info); err != nil {
		p.a.log.Warn("start recording", "channel_arn", p.s.ChannelARN(), "err", err)
		return
	}
	p.mu.Lock()
	p.recording = true
	p.mu.Unlock()
}

// InsertMetadata implements live.Pipeline: every rendition carries it.
func (p *pipeline) InsertMetadata(payload string) error {
	p.mu.Lock()
	segs := append([]*cmaf.Segmenter(nil), p.segmenters...)
	p.mu.Unlock()
	for _, s := range segs {
		if err := s.InsertMetadata(payload); err != nil {
			return err
		}
	}
	return nil
}

// Viewers implements live.Pipeline.
func (p *pipeline) Viewers() int { return p.a.origin.Viewers(p.s.ChannelARN()) }

// Close implements live.Pipeline. The session's hub is already closed, so
// the ladder drains and closes its hubs and the segmenters finish their
// last segments; ctx is cancelled only if that takes too long.
func (p *pipeline) Close() {
	done := make(chan struct{})
	go func() { p.ladderWG.Wait(); p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cancel()
		<-done
	}
	p.cancel()
	p.seg.Close()
	p.mu.Lock()
	rec := p.recording
	p.mu.Unlock()
	if rec {
		p.a.recorder.StreamEnded(p.s.ChannelARN(), p.s.StreamID)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
