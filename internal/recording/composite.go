package recording

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// compositeSegmentDuration is the HLS target duration of a composite
// recording when the destination sets none (IVS
// CompositionRecordingHlsConfiguration default: 2 s).
const compositeSegmentDuration = 2 * time.Second

// maxCompositePrefix bounds a composite recording's key prefix.
const maxCompositePrefix = 512

// CompositeInfo describes the recording of a composition's S3 destination.
type CompositeInfo struct {
	StageARN, CompositionARN, DestinationID string
	// Bucket is the storage configuration's bucket.
	Bucket string
	// Prefix is the destination's recordingPrefix (IVS:
	// "<stage id>/<composition id>/<destination id>/composite"), without
	// leading or trailing slash.
	Prefix string
	// Tracks are the composition's output tracks (H.264 video, AAC audio).
	Tracks []media.Track
	// Width and Height name the rendition folder ("<w>x<h>"); read from
	// the video track's SPS when zero.
	Width, Height int
	// SegmentDuration is the HLS target duration (2 s when zero).
	SegmentDuration time.Duration
	// Thumbnails, when set and the Manager has a Thumbnailer, records
	// thumbnails of the composition.
	Thumbnails *CompositeThumbnails
}

// CompositeThumbnails is a composition's thumbnailConfiguration.
type CompositeThumbnails struct {
	Every              time.Duration // 60 s when zero
	Sequential, Latest bool
}

// compositeMeta names a composite recording's source in its metadata.
type compositeMeta struct {
	stageARN, compositionARN, destinationID string
}

// CompositeRecording is one running recording of a composition's output.
// It has compose.Writer's semantics: Write never blocks (a bounded queue
// whose drops are counted), Done is closed when the recording cannot go on
// (recording-started.json could not be written, or the Manager closed), and
// Close ends it: the last segment is flushed, the playlists get
// EXT-X-ENDLIST and events/recording-ended.json is written, on the
// Manager's goroutines (Close does not wait; Ended tells when it is done).
type CompositeRecording struct {
	m   *Manager
	rec *recording
	st  *liveStream
	hub *stream.Hub

	done     chan struct{}
	doneOnce sync.Once
	ended    chan struct{} // closed by the uploader as it exits
	close    sync.Once
}

// ErrBusy is returned by StartComposite while a recording of the same
// composition is open.
var ErrBusy = errors.New("a recording of this composition is already open")

// StartComposite starts recording a composition's output as HLS under
// in.Prefix of in.Bucket (the layout of a channel recording's prefix:
// events/recording-started.json and recording-ended.json, media/hls/
// master.m3u8, media/hls/<w>x<h>/playlist.m3u8 and its segments, and
// media/thumbnails/<w>x<h>/ when thumbnails are on). It does not block on
// storage. ctx only bounds the call; Close ends the recording.
func (m *Manager) StartComposite(ctx context.Context, in CompositeInfo) (*CompositeRecording, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := objstore.CheckBucket(in.Bucket); err != nil {
		return nil, fmt.Errorf("composite recording destination: %w", err)
	}
	if !validPrefix(in.Prefix) {
		return nil, fmt.Errorf("composite recording prefix %q: not a safe key prefix", in.Prefix)
	}
	if in.CompositionARN == "" {
		return nil, errors.New("composite recording: no composition arn")
	}
	w, h, video := compositeSize(in)
	name := "audio"
	switch {
	case video && (w == 0 || h == 0):
		name = "video"
	case video:
		name = fmt.Sprintf("%dx%d", w, h)
	}
	hub := stream.NewHub(in.Tracks, m.log)
	r := Rendition{Name: name, Width: w, Height: h, Hub: hub}
	plan := streamPlan{record: []Rendition{r}}
	if t := in.Thumbnails; t != nil && video && (t.Sequential || t.Latest) {
		every := t.Every
		if every <= 0 {
			every = 60 * time.Second
		}
		plan.thumb = &thumbPlan{rendition: r, every: every, sequential: t.Sequential, latest: t.Latest}
	}
	st := newLiveStream(m.ctx, in.DestinationID, plan, m.cfg.ReaderQueue)

	m.mu.Lock()
	if m.closed || m.recs[in.CompositionARN] != nil {
		m.mu.Unlock()
		st.stop()
		hub.Close()
		if m.closed {
			return nil, ErrClosed
		}
		return nil, ErrBusy
	}
	rec := newRecordingBase(m, in.CompositionARN, in.Bucket, in.Prefix, m.cfg.Now().UTC(), plan.thumb)
	rec.composite = &compositeMeta{stageARN: in.StageARN, compositionARN: in.CompositionARN, destinationID: in.DestinationID}
	rec.segDur = in.SegmentDuration
	if rec.segDur <= 0 {
		rec.segDur = compositeSegmentDuration
	}
	rec.log = m.log.With("composition_arn", in.CompositionARN, "destination_id", in.DestinationID,
		"session_id", rec.sessionID)
	c := &CompositeRecording{m: m, rec: rec, st: st, hub: hub, done: make(chan struct{}), ended: make(chan struct{})}
	rec.onDead = c.markDone
	rec.onEnded = func() {
		close(c.ended)
		c.markDone()
	}
	m.recs[in.CompositionARN] = rec
	rec.cur = st
	rec.streamIDs = []string{in.DestinationID}
	rec.segWG.Add(1)
	m.wg.Add(2) // uploader and runStream
	m.mu.Unlock()

	go rec.upload()
	go rec.runStream(st, true, in.DestinationID)
	rec.log.Info("composite recording started", "bucket", in.Bucket, "prefix", in.Prefix, "rendition", name)
	return c, nil
}

// Write queues u without blocking; a unit that does not fit is dropped and
// counted (Dropped), and the segmenter resumes at the next key frame.
func (c *CompositeRecording) Write(u *media.Unit) { c.hub.Write(u) }

// Done is closed when the recording cannot go on: it could not start, or
// it ended (Close, or the Manager closed).
func (c *CompositeRecording) Done() <-chan struct{} { return c.done }

func (c *CompositeRecording) markDone() { c.doneOnce.Do(func() { close(c.done) }) }

// Close ends the recording: what is queued is segmented, the playlists are
// finished and recording-ended.json (or recording-failed.json after failed
// writes) is written. err is logged; the recording's status follows its
// writes. It returns at once; idempotent.
func (c *CompositeRecording) Close(err error) {
	c.close.Do(func() {
		if err != nil {
			c.rec.log.Warn("composition ended the recording with an error", "err", err)
		}
		c.hub.Close() // the segmenter drains what is queued, then flushes
		m := c.m
		m.mu.Lock()
		rec := c.rec
		if rec.cur == c.st {
			rec.cur, rec.last = nil, c.st
		}
		fin := m.finalizeLocked(rec) // nil when the Manager already ended it
		m.mu.Unlock()
		if fin != nil {
			go fin.finalize()
		}
	})
}

// Ended is closed when the recording is over: its last object was written
// (or given up).
func (c *CompositeRecording) Ended() <-chan struct{} { return c.ended }

// Prefix returns the recording's key prefix; Bucket its bucket.
func (c *CompositeRecording) Prefix() string { return c.rec.prefix }
func (c *CompositeRecording) Bucket() string { return c.rec.bucket }

// Dropped returns how many units (queue full) and segments (upload queue
// full) the recording lost.
func (c *CompositeRecording) Dropped() uint64 {
	var n uint64
	for _, r := range c.st.readers {
		n += r.Dropped()
	}
	return n + c.rec.dropped.Load()
}

// compositeSize returns the picture size (from in, else the SPS) and
// whether there is a video track the segmenter can record.
func compositeSize(in CompositeInfo) (w, h int, video bool) {
	for _, t := range in.Tracks {
		if t.Kind != media.Video || (t.Codec != media.H264 && t.Codec != media.H265) {
			continue
		}
		w, h = in.Width, in.Height
		if (w <= 0 || h <= 0) && t.Codec == media.H264 && len(t.SPS) > 0 {
			var sps h264.SPS
			if sps.Unmarshal(t.SPS) == nil {
				w, h = sps.Width(), sps.Height()
			}
		}
		return max(w, 0), max(h, 0), true
	}
	return 0, 0, false
}

// validPrefix accepts a key prefix of safe path elements.
func validPrefix(p string) bool {
	if p == "" || len(p) > maxCompositePrefix {
		return false
	}
	for el := range strings.SplitSeq(p, "/") {
		if !validRenditionName(el) {
			return false
		}
	}
	return true
}
