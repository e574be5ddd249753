package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// Thumbnailer turns a rendition's video into JPEG images, about one per
// interval (FFmpegThumbnailer, over package transcode). Thumbnails reads
// hub until ctx ends or the hub closes; emit is called from its goroutine
// tree, one call at a time, and never after it returns.
type Thumbnailer interface {
	Thumbnails(ctx context.Context, hub *stream.Hub, every time.Duration, emit func(jpeg []byte)) error
}

// Config configures a Manager.
type Config struct {
	// Store receives the objects (objstore.Local or objstore.S3).
	Store objstore.Store
	// SegmentDuration is the HLS target duration (6 s when zero).
	SegmentDuration time.Duration
	// QueueSegments bounds each recording's upload queue (64 when zero).
	QueueSegments int
	// UploadAttempts per object (6 when zero) with exponential backoff from
	// UploadBackoff (250 ms when zero), capped at 8 s.
	UploadAttempts int
	UploadBackoff  time.Duration
	// CloseGrace is how long Close lets queued uploads finish before it
	// abandons them (30 s when zero).
	CloseGrace time.Duration
	// ReaderQueue is each hub reader's queue length (stream.DefaultQueue
	// when zero).
	ReaderQueue int
	// Thumbnailer makes thumbnails; nil records none.
	Thumbnailer Thumbnailer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.SegmentDuration <= 0 {
		c.SegmentDuration = 6 * time.Second
	}
	if c.QueueSegments <= 0 {
		c.QueueSegments = 64
	}
	if c.UploadAttempts <= 0 {
		c.UploadAttempts = 6
	}
	if c.UploadBackoff <= 0 {
		c.UploadBackoff = 250 * time.Millisecond
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Rendition is one recordable rendition of a live stream.
type Rendition struct {
	// Name is the folder under media/hls/ ("720p30", "1080p60").
	Name          string
	Width, Height int
	// Bandwidth in bits per second for the master playlist until measured
	// (estimated from the picture size when zero).
	Bandwidth int
	Hub       *stream.Hub
}

// StreamInfo describes a live stream of a channel with recording enabled.
type StreamInfo struct {
	ChannelARN  string
	ChannelName string
	StreamID    string
	// RecordingConfig is the channel's recording configuration (its arn,
	// destination bucket, reconnect window, rendition and thumbnail
	// settings), as channels.Service.GetRecordingConfiguration returns it.
	RecordingConfig *ivsapi.RecordingConfiguration
	// Renditions: the source and, on transcoded channels, the ladder.
	Renditions []Rendition
}

// Manager records channels' live streams. Its methods are safe for
// concurrent use and never block on storage.
type Manager struct {
	cfg Config
	pub control.Publisher
	log *slog.Logger

	// ctx bounds uploads; it is cancelled CloseGrace after Close starts.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dropped atomic.Uint64

	// mu guards recs, closed and the recordings' stream state (the fields
	// marked "guarded by Manager.mu").
	mu     sync.Mutex
	recs   map[string]*recording // by channel ARN
	closed bool
}

// NewManager returns a ready manager; pub may be nil.
func NewManager(cfg Config, pub control.Publisher, log *slog.Logger) *Manager {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, pub: pub, log: log.With("component", "recording"), ctx: ctx, cancel: cancel,
		recs: map[string]*recording{}}
}

// Run waits for ctx to end, then closes the manager (finishing every
// recording) and returns once all uploads are done.
func (m *Manager) Run(ctx context.Context) error {
	<-ctx.Done()
	m.Close()
	return nil
}

// Active returns how many recordings are open (live or inside their
// reconnect window).
func (m *Manager) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

// Dropped returns how many segments and thumbnails all recordings dropped
// because their upload queue was full.
func (m *Manager) Dropped() uint64 { return m.dropped.Load() }

// ErrClosed is returned by StreamStarted after Close.
var ErrClosed = errors.New("recording manager is closed")

// StreamStarted starts recording a stream, or continues the channel's
// recording when the previous stream ended less than the reconnect window
// ago. It returns the recording's key prefix. It does not block on storage.
func (m *Manager) StreamStarted(in StreamInfo) (string, error) {
	rc := in.RecordingConfig
	if rc == nil || rc.DestinationConfiguration == nil || rc.DestinationConfiguration.S3 == nil {
		return "", errors.New("recording configuration has no s3 destination")
	}
	bucket := deref(rc.DestinationConfiguration.S3.BucketName)
	_, account, typ, channelID, err := model.ParseARN(in.ChannelARN)
	if err != nil || typ != "channel" {
		return "", fmt.Errorf("channel arn %q: not a channel arn", in.ChannelARN)
	}
	if err := objstore.CheckBucket(bucket); err != nil {
		m.publish(map[string]any{"channel_name": in.ChannelName, "stream_id": in.StreamID,
			"recording_status": EventStartFailure, "recording_status_reason": "ValidationException",
			"recording_s3_bucket_name": bucket, "recording_s3_key_prefix": "", "recording_duration_ms": int64(0),
			"recording_session_id": ""}, in.ChannelARN)
		return "", fmt.Errorf("recording destination: %w", err)
	}
	plan := planStream(rc, in.Renditions)
	if len(plan.record) == 0 && plan.thumb == nil {
		m.log.Info("recording configuration records nothing", "channel_arn", in.ChannelARN)
		return "", nil
	}
	st := newLiveStream(m.ctx, in.StreamID, plan, m.cfg.ReaderQueue)

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		st.stop()
		return "", ErrClosed
	}
	var toFinalize []*recording
	var toStop []*liveStream
	rec := m.recs[in.ChannelARN]
	if rec != nil && (rec.configARN != deref(rc.Arn) || rec.bucket != bucket) {
		// The channel's recording configuration changed: a new recording.
		if rec.cur != nil {
			toStop = append(toStop, rec.cur)
			rec.cur = nil
		}
		toFinalize = append(toFinalize, m.finalizeLocked(rec))
		rec = nil
	}
	isNew := rec == nil
	if isNew {
		now := m.cfg.Now().UTC()
		rec = newRecording(m, in, rc, bucket, KeyPrefix(account, channelID, now, model.RandomID(12)), now, plan)
		m.recs[in.ChannelARN] = rec
		m.wg.Add(1)
		go rec.upload()
	} else {
		if rec.timer != nil {
			rec.timer.Stop()
			rec.timer = nil
		}
		rec.gen++
		if rec.cur != nil {
			toStop = append(toStop, rec.cur) // a new publisher took over
		}
	}
	st.prev = rec.cur
	if st.prev == nil {
		st.prev = rec.last
	}
	rec.cur = st
	rec.streamIDs = append(rec.streamIDs, in.StreamID)
	rec.segWG.Add(1)
	m.wg.Add(1)
	m.mu.Unlock()

	for _, s := range toStop {
		s.stop()
	}
	for _, r := range toFinalize {
		if r != nil {
			go r.finalize()
		}
	}
	go rec.runStream(st, isNew, in.StreamID)
	if isNew {
		m.log.Info("recording started", "channel_arn", in.ChannelARN, "stream_id", in.StreamID,
			"bucket", bucket, "prefix", rec.prefix)
	} else {
		m.log.Info("recording continues after reconnect", "channel_arn", in.ChannelARN, "stream_id", in.StreamID,
			"prefix", rec.prefix)
	}
	return rec.prefix, nil
}

// StreamEnded stops recording the stream. The recording ends (its playlists
// get EXT-X-ENDLIST and recording-ended.json is written) once the
// recording configuration's reconnect window passes without a new stream.
func (m *Manager) StreamEnded(channelARN, streamID string) {
	m.mu.Lock()
	rec := m.recs[channelARN]
	if rec == nil || rec.cur == nil || rec.cur.id != streamID {
		m.mu.Unlock()
		return
	}
	st := rec.cur
	rec.cur, rec.last = nil, st
	var fin *recording
	if rec.window <= 0 {
		fin = m.finalizeLocked(rec)
	} else {
		rec.gen++
		gen := rec.gen
		rec.timer = time.AfterFunc(rec.window, func() { m.expire(rec, gen) })
	}
	m.mu.Unlock()
	st.stop()
	if fin != nil {
		go fin.finalize()
	}
}

// expire ends a recording whose reconnect window passed.
func (m *Manager) expire(rec *recording, gen int) {
	m.mu.Lock()
	if m.closed || rec.gen != gen || rec.cur != nil {
		m.mu.Unlock()
		return
	}
	fin := m.finalizeLocked(rec)
	m.mu.Unlock()
	if fin != nil {
		go fin.finalize()
	}
}

// finalizeLocked marks rec as ending and removes it from the map; the
// caller starts rec.finalize (counted in m.wg here). nil if already ending.
func (m *Manager) finalizeLocked(rec *recording) *recording {
	if rec.finalizing {
		return nil
	}
	rec.finalizing = true
	if rec.timer != nil {
		rec.timer.Stop()
		rec.timer = nil
	}
	rec.gen++
	if m.recs[rec.channelARN] == rec {
		delete(m.recs, rec.channelARN)
	}
	rec.endStreamIDs = append([]string(nil), rec.streamIDs...)
	m.wg.Add(1)
	return rec
}

// Close ends every recording (live streams are cut where they are, without
// waiting for reconnect windows), waits up to CloseGrace for queued uploads
// and returns when every goroutine has exited. Idempotent.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return
	}
	m.closed = true
	var stops []*liveStream
	var fins []*recording
	for _, rec := range m.recs {
		if rec.cur != nil {
			stops = append(stops, rec.cur)
			rec.cur, rec.last = nil, rec.cur
		}
		if f := m.finalizeLocked(rec); f != nil {
			fins = append(fins, f)
		}
	}
	m.mu.Unlock()
	abandon := time.AfterFunc(m.cfg.CloseGrace, func() {
		m.log.Warn("recording uploads did not finish in time, abandoning them", "grace", m.cfg.CloseGrace.String())
		m.cancel()
	})
	for _, s := range stops {
		s.stop()
	}
	for _, f := range fins {
		go f.finalize()
	}
	m.wg.Wait()
	abandon.Stop()
	m.cancel()
}

func (m *Manager) publish(detail map[string]any, channelARN string) {
	if m.pub != nil {
		m.pub.Publish(context.Background(), EventDetailType, []string{channelARN}, detail)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
