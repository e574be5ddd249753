package recording

import (
	"context"
	"errors"
	"path"
	"sync"

	"github.com/stagecast/stagecast/internal/stream"
)

// liveStream is one publisher's stream inside a recording: a hub reader
// per recorded rendition.
type liveStream struct {
	id      string
	plan    streamPlan
	readers []*stream.Reader // parallel to plan.record
	ctx     context.Context
	cancel  context.CancelFunc
	// prev is the stream this one continues (its segmenters must finish
	// first so the timeline continues where they stopped).
	prev *liveStream
	done chan struct{} // closed when runStream returns
}

func newLiveStream(parent context.Context, id string, plan streamPlan, queue int) *liveStream {
	st := &liveStream{id: id, plan: plan, done: make(chan struct{})}
	st.ctx, st.cancel = context.WithCancel(parent)
	for _, r := range plan.record {
		st.readers = append(st.readers, r.Hub.NewReader("recording-"+r.Name, queue))
	}
	return st
}

// stop detaches the readers (the segmenters flush what they have and
// exit) and stops the thumbnailer.
func (st *liveStream) stop() {
	for _, r := range st.readers {
		r.Close()
	}
	st.cancel()
}

// runStream feeds one stream into the recording; it is counted in
// rec.segWG and m.wg by StreamStarted.
func (rec *recording) runStream(st *liveStream, isNew bool, streamID string) {
	defer rec.m.wg.Done()
	defer rec.segWG.Done()
	defer close(st.done)
	defer st.stop()
	if st.prev != nil {
		<-st.prev.done
	}
	if isNew {
		rec.send(rec.startJob(streamID, st.plan))
	}
	for _, r := range st.plan.record {
		rec.send(rec.addRenditionJob(r))
	}
	var wg sync.WaitGroup
	for i, r := range st.plan.record {
		wg.Go(func() { rec.segment(r, st.readers[i], !isNew) })
	}
	if t := st.plan.thumb; t != nil && rec.m.cfg.Thumbnailer != nil {
		wg.Go(func() {
			err := rec.m.cfg.Thumbnailer.Thumbnails(st.ctx, t.rendition.Hub, t.every, func(jpeg []byte) {
				_ = rec.offer(rec.thumbJob(t, jpeg))
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				rec.log.Warn("thumbnails stopped", "rendition", t.rendition.Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// segment cuts one rendition's units into segments and queues them.
func (rec *recording) segment(r Rendition, rd *stream.Reader, discontinuity bool) {
	log := rec.log.With("rendition", r.Name)
	rec.tlMu.Lock()
	start, ok := rec.timeline[r.Name]
	rec.tlMu.Unlock()
	if !ok {
		start = timelineStart
	}
	sg, err := newSegmenter(r.Hub.Tracks(), rec.segDur, start, discontinuity && ok)
	if err != nil {
		log.Warn("rendition not recorded", "err", err)
		for range rd.C() {
		}
		return
	}
	dir := path.Join(hlsPath, r.Name)
	failed := false
	for u := range rd.C() {
		seg, err := sg.push(u)
		if seg != nil && !rec.offer(rec.segmentJob(r.Name, dir, seg)) {
			sg.markGap()
		}
		if err != nil && !failed {
			failed = true // logged once; later units may still mux
			log.Warn("mux error", "err", err)
		}
	}
	if seg := sg.flush(); seg != nil {
		rec.send(rec.segmentJob(r.Name, dir, seg))
	}
	rec.tlMu.Lock()
	rec.timeline[r.Name] = sg.timelineEnd()
	rec.tlMu.Unlock()
}
