package recording

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

// dropWarnEvery is how often a recording that keeps dropping segments is
// logged.
const dropWarnEvery = 5 * time.Second

// maxBackoff caps the retry delay of one object.
const maxBackoff = 8 * time.Second

// job is one unit of upload work; jobs run in order on the recording's
// uploader goroutine, which owns every field marked "uploader".
type job func(ctx context.Context)

// recording is one IVS recording session: one key prefix, one or more
// streams (reconnects inside the window), one uploader.
type recording struct {
	m   *Manager
	log *slog.Logger

	channelARN, channelName, configARN string
	bucket, prefix, sessionID          string
	startedAt                          time.Time
	window                             time.Duration
	thumb                              *thumbPlan // of the first stream
	segDur                             time.Duration
	// composite is set on a composition's recording (StartComposite):
	// its metadata names the stage and composition, and it publishes no
	// recording events (the composition reports its destination states).
	composite *compositeMeta
	// onDead, when set, is called (on the uploader) when the recording
	// could not start; onEnded when the uploader exits.
	onDead, onEnded func()

	queue chan job
	segWG sync.WaitGroup // runStream goroutines; Add under Manager.mu

	// Guarded by Manager.mu.
	cur, last    *liveStream
	timer        *time.Timer
	gen          int
	finalizing   bool
	streamIDs    []string
	endStreamIDs []string // snapshot taken when finalizing

	// tlMu guards timeline: where each rendition's timeline ends (90 kHz).
	tlMu     sync.Mutex
	timeline map[string]int64

	dropped  atomic.Uint64
	dropMu   sync.Mutex
	lastWarn time.Time

	// Uploader.
	dead        bool // recording-started.json could not be written
	failures    int
	lastErr     error
	playlists   map[string]*mediaPlaylist
	renditions  []Rendition // in master order
	codecs      map[string]string
	seq         map[string]int
	thumbSeq    int
	maxDuration time.Duration
}

func newRecording(m *Manager, in StreamInfo, rc *ivsapi.RecordingConfiguration, bucket, prefix string, now time.Time, plan streamPlan) *recording {
	rec := newRecordingBase(m, in.ChannelARN, bucket, prefix, now, plan.thumb)
	rec.channelName, rec.configARN = in.ChannelName, deref(rc.Arn)
	if rc.RecordingReconnectWindowSeconds != nil {
		rec.window = time.Duration(*rc.RecordingReconnectWindowSeconds) * time.Second
	}
	rec.log = m.log.With("channel_arn", in.ChannelARN, "session_id", rec.sessionID)
	return rec
}

// newRecordingBase returns a recording keyed by key in Manager.recs (a
// channel ARN, or a composition ARN for a composite recording).
func newRecordingBase(m *Manager, key, bucket, prefix string, now time.Time, thumb *thumbPlan) *recording {
	return &recording{
		m: m, channelARN: key, bucket: bucket, prefix: prefix, sessionID: model.RandomID(16), startedAt: now,
		thumb: thumb, segDur: m.cfg.SegmentDuration,
		queue: make(chan job, m.cfg.QueueSegments), timeline: map[string]int64{},
		playlists: map[string]*mediaPlaylist{}, codecs: map[string]string{}, seq: map[string]int{},
	}
}

// upload runs the queue until finalize closes it.
func (rec *recording) upload() {
	defer rec.m.wg.Done()
	for j := range rec.queue {
		j(rec.m.ctx)
	}
	if rec.onEnded != nil {
		rec.onEnded()
	}
}

// send queues a job that must not be lost (start, end, last segment).
// Only goroutines counted in segWG, and finalize, send.
func (rec *recording) send(j job) { rec.queue <- j }

// offer queues a job unless the queue is full: a backend slower than the
// stream loses segments rather than holding the live path. It reports
// whether the job was queued.
func (rec *recording) offer(j job) bool {
	select {
	case rec.queue <- j:
		return true
	default:
		n := rec.dropped.Add(1)
		rec.m.dropped.Add(1)
		rec.dropMu.Lock()
		warn := time.Since(rec.lastWarn) >= dropWarnEvery
		if warn {
			rec.lastWarn = time.Now()
		}
		rec.dropMu.Unlock()
		if warn {
			rec.log.Warn("recording storage is too slow, dropping segments", "dropped_total", n)
		}
		return false
	}
}

// put writes one object with retries and backoff; false when it was given
// up (counted as a failure).
func (rec *recording) put(ctx context.Context, key string, body []byte, contentType string) bool {
	full := rec.prefix + "/" + key
	backoff := rec.m.cfg.UploadBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = rec.m.cfg.Store.Put(ctx, rec.bucket, full, body, contentType); err == nil {
			return true
		}
		if attempt >= rec.m.cfg.UploadAttempts || ctx.Err() != nil {
			break
		}
		rec.log.Debug("upload failed, retrying", "key", full, "attempt", attempt, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(backoff*2, maxBackoff)
	}
	rec.failures++
	rec.lastErr = err
	rec.log.Warn("upload failed", "key", full, "attempts", rec.m.cfg.UploadAttempts, "err", err)
	return false
}

func (rec *recording) putJSON(ctx context.Context, key string, v any) bool {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		rec.failures++
		rec.lastErr = err
		return false
	}
	return rec.put(ctx, key, b, "application/json")
}

// metadata builds the started/ended/failed file for the renditions known
// so far.
func (rec *recording) metadata(status string) Metadata {
	md := Metadata{Version: metadataVersion, RecordingStartedAt: timeString(rec.startedAt),
		ChannelARN: rec.channelARN, RecordingStatus: status}
	if c := rec.composite; c != nil {
		md.ChannelARN, md.StageARN, md.CompositionARN, md.DestinationID = "", c.stageARN, c.compositionARN, c.destinationID
	}
	if len(rec.renditions) > 0 {
		h := &HLSInfo{Path: hlsPath, Playlist: masterPlaylist, Renditions: []RenditionInfo{}}
		for _, r := range rec.renditions {
			h.Renditions = append(h.Renditions, RenditionInfo{Path: r.Name, Playlist: renditionPlaylist,
				ResolutionWidth: r.Width, ResolutionHeight: r.Height})
		}
		md.Media.HLS = h
	}
	if t := rec.thumb; t != nil && rec.m.cfg.Thumbnailer != nil {
		info := func(p string) *ThumbnailInfo {
			return &ThumbnailInfo{Path: p, ResolutionWidth: t.rendition.Width, ResolutionHeight: t.rendition.Height}
		}
		if t.sequential {
			md.Media.Thumbnails = info(thumbnailsPath)
		}
		if t.latest {
			md.Media.LatestThumbnail = info(latestThumbPath)
		}
	}
	return md
}

func (rec *recording) event(status, reason, streamID string) map[string]any {
	return map[string]any{
		"channel_name":             rec.channelName,
		"stream_id":                streamID,
		"recording_status":         status,
		"recording_status_reason":  reason,
		"recording_s3_bucket_name": rec.bucket,
		"recording_s3_key_prefix":  rec.prefix,
		"recording_duration_ms":    rec.maxDuration.Milliseconds(),
		"recording_session_id":     rec.sessionID,
	}
}

// startJob writes recording-started.json and publishes Recording Start (or
// Recording Start Failure, after which the recording writes nothing).
func (rec *recording) startJob(streamID string, plan streamPlan) job {
	return func(ctx context.Context) {
		// The renditions are registered by the jobs queued right after this
		// one; recording-started.json describes them from the plan.
		rec.renditions = append(rec.renditions[:0], plan.record...)
		ok := rec.putJSON(ctx, keyStarted, rec.metadata(statusStarted))
		rec.renditions = rec.renditions[:0]
		if !ok {
			rec.dead = true
			rec.log.Error("recording could not start", "bucket", rec.bucket, "err", rec.lastErr)
			rec.publish(rec.event(EventStartFailure, reasonOf(rec.lastErr), streamID))
			if rec.onDead != nil {
				rec.onDead()
			}
			return
		}
		rec.publish(rec.event(EventStart, "", streamID))
	}
}

// addRenditionJob registers a rendition (first stream, or a new one after
// a reconnect) and rewrites the master playlist.
func (rec *recording) addRenditionJob(r Rendition) job {
	codecs := codecsOf(r.Hub.Tracks())
	return func(ctx context.Context) {
		if rec.dead {
			return
		}
		if _, ok := rec.playlists[r.Name]; ok {
			return
		}
		rec.playlists[r.Name] = &mediaPlaylist{target: rec.segDur}
		rec.renditions = append(rec.renditions, r)
		rec.codecs[r.Name] = codecs
		rec.put(ctx, hlsPath+"/"+masterPlaylist, rec.master(), "application/vnd.apple.mpegurl")
	}
}

func (rec *recording) master() []byte {
	vs := make([]variant, 0, len(rec.renditions))
	for _, r := range rec.renditions {
		bw := estimateBandwidth(r)
		if p := rec.playlists[r.Name]; p != nil && p.peak > 0 {
			bw = int(p.peak)
		}
		vs = append(vs, variant{path: r.Name, width: r.Width, height: r.Height, bandwidth: bw, codecs: rec.codecs[r.Name]})
	}
	return renderMaster(vs)
}

// segmentJob stores a segment, then lists it in the rendition's playlist.
func (rec *recording) segmentJob(name, dir string, seg *segment) job {
	return func(ctx context.Context) {
		p := rec.playlists[name]
		if rec.dead || p == nil {
			return
		}
		seq := rec.seq[name]
		rec.seq[name] = seq + 1
		if !rec.put(ctx, path.Join(dir, segmentName(seq)), seg.data, "video/mp2t") {
			p.gap = true // the next listed segment follows a hole
			return
		}
		seg.discontinuity = (seg.discontinuity || p.gap) && len(p.entries) > 0
		p.gap = false
		p.add(segmentName(seq), seg)
		rec.maxDuration = max(rec.maxDuration, p.total)
		rec.put(ctx, path.Join(dir, renditionPlaylist), p.render(), "application/vnd.apple.mpegurl")
	}
}

// thumbJob stores a thumbnail as the next sequential image and/or the
// latest one.
func (rec *recording) thumbJob(t *thumbPlan, jpeg []byte) job {
	return func(ctx context.Context) {
		if rec.dead {
			return
		}
		if t.sequential {
			rec.put(ctx, path.Join(thumbnailsPath, t.rendition.Name, thumbName(rec.thumbSeq)), jpeg, "image/jpeg")
			rec.thumbSeq++
		}
		if t.latest {
			rec.put(ctx, path.Join(latestThumbPath, t.rendition.Name, latestThumbName), jpeg, "image/jpeg")
		}
	}
}

// finalize waits for the recording's streams to drain into the queue, then
// queues the end job and closes the queue. Counted in m.wg by
// finalizeLocked.
func (rec *recording) finalize() {
	defer rec.m.wg.Done()
	rec.segWG.Wait()
	ids := rec.endStreamIDs
	last := ""
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	rec.send(func(ctx context.Context) {
		if rec.dead {
			return
		}
		for _, r := range rec.renditions {
			p := rec.playlists[r.Name]
			p.ended = true
			rec.put(ctx, path.Join(hlsPath, r.Name, renditionPlaylist), p.render(), "application/vnd.apple.mpegurl")
		}
		if len(rec.renditions) > 0 {
			rec.put(ctx, hlsPath+"/"+masterPlaylist, rec.master(), "application/vnd.apple.mpegurl")
		}
		status, key, ev, reason := statusEnded, keyEnded, EventEnd, ""
		if rec.failures > 0 {
			status, key, ev, reason = statusEndedFailure, keyFailed, EventEndFailure, reasonOf(rec.lastErr)
		}
		md := rec.metadata(status)
		md.RecordingEndedAt = timeString(rec.m.cfg.Now())
		if md.Media.HLS != nil {
			ms := rec.maxDuration.Milliseconds()
			md.Media.HLS.DurationMS = &ms
		}
		if rec.failures > 0 {
			md.RecordingStatusMessage = fmt.Sprintf("%d object writes failed; last: %v", rec.failures, rec.lastErr)
		}
		if !rec.putJSON(ctx, key, md) && ev == EventEnd {
			ev, reason = EventEndFailure, reasonOf(rec.lastErr)
		}
		d := rec.event(ev, reason, last)
		d["recording_session_stream_ids"] = ids
		rec.publish(d)
		rec.log.Info("recording ended", "status", ev, "duration_ms", rec.maxDuration.Milliseconds(),
			"dropped", rec.dropped.Load(), "failed_writes", rec.failures)
	})
	close(rec.queue)
}

// publish sends a recording event about the channel; composite recordings
// send none.
func (rec *recording) publish(detail map[string]any) {
	if rec.composite == nil {
		rec.m.publish(detail, rec.channelARN)
	}
}

// reasonOf is the recording_status_reason of a failure.
func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	return "InternalServerException"
}
