package live

import (
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/stream"
)

// Session is one stream session of a channel.
type Session struct {
	m *Manager
	// Channel is the channel as it was when the session started.
	Channel  *ivsapi.Channel
	StreamID string
	Start    time.Time
	Tracks   []media.Track
	// Hub carries the source; the pipeline reads it.
	Hub *stream.Hub
	// Protocol and Encoder describe the first publisher.
	Protocol ingest.Protocol
	Encoder  string

	lastArrival atomic.Int64 // unix nanos of the newest unit

	// Guarded by Manager.mu.
	pub           *publisher
	waitUntil     time.Time
	ended         bool
	statsRecorded bool

	// mu guards the fields below (written by the publisher goroutine and
	// the manager, read by API calls).
	mu       sync.Mutex
	pl       Pipeline
	end      time.Time
	events   []ivsapi.StreamEvent
	stats    []trackStats
	lastDTS  []int64 // per track, after offsetting; valid when seen
	lastStep []int64
	seen     []bool
}

type trackStats struct {
	bytes, units int64
	first, last  int64 // DTS of the first/last unit, track clock
}

func newSession(m *Manager, ch *ivsapi.Channel, req ingest.Request, now time.Time) *Session {
	n := len(req.Tracks)
	return &Session{
		m: m, Channel: ch, StreamID: model.NewStreamID(), Start: now, Tracks: req.Tracks,
		Hub:      stream.NewHub(req.Tracks, m.log.With("channel_arn", deref(ch.Arn))),
		Protocol: req.Protocol, Encoder: req.Encoder,
		stats: make([]trackStats, n), lastDTS: make([]int64, n), lastStep: make([]int64, n), seen: make([]bool, n),
	}
}

// ChannelARN is the session's channel.
func (s *Session) ChannelARN() string { return deref(s.Channel.Arn) }

// compatible reports whether a new publisher's tracks can continue s.
func (s *Session) compatible(tracks []media.Track) bool {
	if len(tracks) != len(s.Tracks) {
		return false
	}
	for i, t := range tracks {
		o := s.Tracks[i]
		if t.Kind != o.Kind || t.Codec != o.Codec || t.ClockRate != o.ClockRate ||
			t.Width != o.Width || t.Height != o.Height || t.SampleRate != o.SampleRate || t.Channels != o.Channels {
			return false
		}
	}
	return true
}

// attach makes a publisher for req; the caller holds Manager.mu.
func (s *Session) attach() *publisher {
	p := &publisher{s: s, done: make(chan struct{})}
	s.mu.Lock()
	resume := time.Duration(-1)
	for i, t := range s.Tracks {
		if s.seen[i] {
			d := media.Duration(s.lastDTS[i]+s.lastStep[i], t.ClockRate)
			resume = max(resume, d)
		}
	}
	s.mu.Unlock()
	if resume >= 0 {
		p.resumeAt, p.reconnect = resume, true
		p.disc = make([]bool, len(s.Tracks))
		for i := range p.disc {
			p.disc[i] = true
		}
	}
	s.pub = p
	s.waitUntil = time.Time{}
	return p
}

func (s *Session) setPipeline(pl Pipeline) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pl = pl
}

func (s *Session) pipeline() Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pl
}

func (s *Session) setEnd(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end = t
}

func (s *Session) lastUnit() time.Time {
	n := s.lastArrival.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// addEvent records a stream event (newest first, as the API lists them).
func (s *Session) addEvent(at time.Time, name, code string) {
	at = at.UTC()
	ev := ivsapi.StreamEvent{Name: ptr(name), Type: ptr(DetailType), EventTime: &at}
	if code != "" {
		ev.Code = ptr(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append([]ivsapi.StreamEvent{ev}, s.events...)
}

// sessionDoc is the stored form of the session.
func (s *Session) sessionDoc() *channels.StreamSessionDoc {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.Start.UTC()
	doc := &channels.StreamSessionDoc{StreamSession: ivsapi.StreamSession{
		Channel: s.Channel, StreamId: ptr(s.StreamID), StartTime: &start,
		TruncatedEvents: append([]ivsapi.StreamEvent(nil), s.events...),
	}}
	if !s.end.IsZero() {
		e := s.end.UTC()
		doc.EndTime = &e
	}
	cfgs := &ivsapi.IngestConfigurations{}
	for i, t := range s.Tracks {
		st := s.stats[i]
		var bitrate, fps int64
		if span := media.Duration(st.last-st.first, t.ClockRate); span > time.Second && st.units > 1 {
			bitrate = st.bytes * 8 * int64(time.Second) / int64(span)
			fps = (st.units - 1) * int64(time.Second) / int64(span)
		}
		name := fmt.Sprintf("Track%d", i)
		switch t.Kind {
		case media.Video:
			v := ivsapi.VideoConfiguration{
				Codec: ptr(codecString(t)), Track: &name, Encoder: optional(s.Encoder),
				VideoWidth: ptr(int64(t.Width)), VideoHeight: ptr(int64(t.Height)),
			}
			if bitrate > 0 {
				v.TargetBitrate, v.TargetFramerate = &bitrate, &fps
			}
			if p, l, ok := h264ProfileLevel(t); ok {
				v.Profile, v.Level = &p, &l
				v.AvcProfile, v.AvcLevel = &p, &l
			}
			cfgs.VideoConfigurations = append(cfgs.VideoConfigurations, v)
		case media.Audio:
			a := ivsapi.AudioConfiguration{
				Codec: ptr(codecString(t)), Track: &name,
				Channels: ptr(int64(t.Channels)), SampleRate: ptr(int64(t.SampleRate)),
			}
			if bitrate > 0 {
				a.TargetBitrate = &bitrate
			}
			cfgs.AudioConfigurations = append(cfgs.AudioConfigurations, a)
		}
	}
	doc.IngestConfigurations = cfgs
	single := &ivsapi.IngestConfiguration{}
	if len(cfgs.VideoConfigurations) > 0 {
		single.Video = &cfgs.VideoConfigurations[0]
	}
	if len(cfgs.AudioConfigurations) > 0 {
		single.Audio = &cfgs.AudioConfigurations[0]
	}
	doc.IngestConfiguration = single
	return doc
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// codecString is the RFC 6381 codec string IVS reports ("avc1.64001F",
// "mp4a.40.2").
func codecString(t media.Track) string {
	switch t.Codec {
	case media.H264:
		if len(t.SPS) >= 4 {
			return "avc1." + hex.EncodeToString(t.SPS[1:4])
		}
	case media.AAC:
		if len(t.AACConfig) > 0 {
			return fmt.Sprintf("mp4a.40.%d", t.AACConfig[0]>>3)
		}
		return "mp4a.40.2"
	}
	return string(t.Codec)
}

// h264ProfileLevel names the profile and level from the SPS.
func h264ProfileLevel(t media.Track) (profile, level string, ok bool) {
	if t.Codec != media.H264 || len(t.SPS) < 4 {
		return "", "", false
	}
	names := map[byte]string{66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10", 122: "High 4:2:2", 244: "High 4:4:4"}
	p, ok := names[t.SPS[1]]
	if !ok {
		p = fmt.Sprintf("profile %d", t.SPS[1])
	}
	if t.SPS[1] == 66 && t.SPS[2]&0x40 != 0 {
		p = "Constrained Baseline"
	}
	lv := int(t.SPS[3])
	return p, fmt.Sprintf("%d.%d", lv/10, lv%10), true
}

// publisher is the ingest.Session handed to a protocol server.
type publisher struct {
	s    *Session
	done chan struct{}
	kill sync.Once
	end  sync.Once

	// Reconnect state, owned by the publisher's goroutine (Write).
	reconnect bool
	resumeAt  time.Duration
	offset    time.Duration
	offsetSet bool
	disc      []bool

	// stopped is set under Manager.mu by StopStream.
	stopped bool
}

var _ ingest.Session = (*publisher)(nil)

func (p *publisher) ChannelARN() string    { return p.s.ChannelARN() }
func (p *publisher) Done() <-chan struct{} { return p.done }
func (p *publisher) kick()                 { p.kill.Do(func() { close(p.done) }) }

// Close implements ingest.Session.
func (p *publisher) Close(err error) {
	p.end.Do(func() { p.s.m.detach(p.s, p, err) })
}

// Write implements ingest.Session: it shifts a reconnected publisher's
// timestamps to continue the session, keeps statistics and writes to the
// hub, which never blocks.
func (p *publisher) Write(u *media.Unit) {
	s := p.s
	if u.Track < 0 || u.Track >= len(s.Tracks) {
		return
	}
	clock := s.Tracks[u.Track].ClockRate
	if p.reconnect {
		if !p.offsetSet {
			p.offset = p.resumeAt - media.Duration(u.DTS, clock)
			p.offsetSet = true
		}
		c := *u
		shift := media.Ticks(p.offset, clock)
		c.DTS += shift
		c.PTS += shift
		if p.disc[u.Track] {
			c.Discontinuity = true
			p.disc[u.Track] = false
		}
		u = &c
	}
	s.mu.Lock()
	st := &s.stats[u.Track]
	if st.units == 0 {
		st.first = u.DTS
	}
	st.units++
	st.bytes += int64(u.Size())
	st.last = u.DTS
	if s.seen[u.Track] && u.DTS > s.lastDTS[u.Track] {
		s.lastStep[u.Track] = u.DTS - s.lastDTS[u.Track]
	}
	s.lastDTS[u.Track], s.seen[u.Track] = u.DTS, true
	s.mu.Unlock()
	if u.Arrival.IsZero() {
		u.Arrival = time.Now()
	}
	s.lastArrival.Store(u.Arrival.UnixNano())
	s.Hub.Write(u)
}
