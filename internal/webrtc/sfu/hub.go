package sfu

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// Depacketizer reorder window, in packets.
const (
	videoMaxLate = 256
	audioMaxLate = 32
)

// feed depacketizes one pubTrack (one layer of it) into a hub.
type feed struct {
	hub      *stream.Hub
	track    int
	codec    media.Codec
	layerIdx int
	sb       *samplebuilder.SampleBuilder

	// Owned by the layer's read loop.
	lastTS   uint32
	unwrapTS int64
	started  bool
}

func (f *feed) layer(l *layer) bool { return l.index == f.layerIdx }

// push adds a packet and writes every completed unit to the hub.
func (f *feed) push(pkt *rtp.Packet) {
	f.sb.Push(pkt)
	for s := f.sb.Pop(); s != nil; s = f.sb.Pop() {
		ts := s.PacketTimestamp
		if !f.started {
			f.started, f.lastTS, f.unwrapTS = true, ts, int64(ts)
		} else {
			f.unwrapTS += int64(int32(ts - f.lastTS))
			f.lastTS = ts
		}
		u := &media.Unit{Track: f.track, PTS: f.unwrapTS, DTS: f.unwrapTS, Arrival: time.Now(),
			Discontinuity: s.PrevDroppedPackets > 0}
		switch f.codec {
		case media.H264:
			u.NALUs = splitAnnexB(s.Data)
			for _, n := range u.NALUs {
				if t := n[0] & 0x1f; t == 5 || t == 7 {
					u.Key = true
				}
			}
			if len(u.NALUs) == 0 {
				continue
			}
		case media.VP8:
			u.Payload = s.Data
			u.Key = len(s.Data) > 0 && s.Data[0]&0x01 == 0
		default:
			u.Payload, u.Key = s.Data, true
		}
		f.hub.Write(u)
	}
}

// splitAnnexB returns the NAL units of an Annex B byte stream.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			if len(out) == 0 && len(b) > 0 {
				out = append(out, b)
			}
			break
		}
		b = b[i+3:]
		j := bytes.Index(b, []byte{0, 0, 1})
		n := b
		if j >= 0 {
			n = b[:j]
			if len(n) > 0 && n[len(n)-1] == 0 {
				n = n[:len(n)-1] // 4-byte start code
			}
			b = b[j:]
		} else {
			b = nil
		}
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

func mediaCodec(mime string) media.Codec {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeH264):
		return media.H264
	case strings.ToLower(webrtc.MimeTypeVP8):
		return media.VP8
	case strings.ToLower(webrtc.MimeTypeOpus):
		return media.Opus
	}
	return media.Codec(strings.ToLower(mime))
}

// Subscribe gives in-process readers (the compositor) a participant's
// published media as depacketized units: the tracks (video first when
// present) and a hub fed from the participant's best simulcast layer. The
// hub is created on the first call and closed when the participant stops
// publishing; it waits up to ~3 s for the publisher to be announced.
// The H.264 Track carries no SPS/PPS: they arrive in band with key frames.
func (s *Server) Subscribe(stageARN, participantID string) ([]media.Track, *stream.Hub, error) {
	pub, err := s.publisherOf(stageARN, participantID)
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-pub.readyC:
	case <-pub.ss.done:
		return nil, nil, fmt.Errorf("participant %s: %w", participantID, ErrNotPublishing)
	case <-time.After(publishSettle + time.Second):
		return nil, nil, fmt.Errorf("participant %s: %w", participantID, ErrNotPublishing)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if pub.hub != nil {
		return pub.hub.Tracks(), pub.hub, nil
	}
	var tracks []media.Track
	var srcs []*pubTrack
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		for _, t := range pub.tracks {
			if t.kind != kind {
				continue
			}
			mt := media.Track{ID: len(tracks), Codec: mediaCodec(t.codec.MimeType), ClockRate: int(t.codec.ClockRate)}
			if kind == webrtc.RTPCodecTypeVideo {
				mt.Kind = media.Video
			} else {
				mt.Kind, mt.SampleRate, mt.Channels = media.Audio, int(t.codec.ClockRate), max(int(t.codec.Channels), 1)
			}
			tracks = append(tracks, mt)
			srcs = append(srcs, t)
		}
	}
	hub := stream.NewHub(tracks, s.log.With("stage_arn", stageARN, "participant_id", participantID))
	for i, t := range srcs {
		f := &feed{hub: hub, track: i, codec: tracks[i].Codec, layerIdx: max(t.bestLayer(0), 0)}
		var dep rtp.Depacketizer
		maxLate := uint16(videoMaxLate)
		switch f.codec {
		case media.H264:
			dep = &codecs.H264Packet{}
		case media.VP8:
			dep = &codecs.VP8Packet{}
		default:
			dep, maxLate = &codecs.OpusPacket{}, audioMaxLate
		}
		f.sb = samplebuilder.New(maxLate, dep, t.codec.ClockRate)
		t.feed.Store(f)
		if l := t.layerAt(f.layerIdx); l != nil && t.kind == webrtc.RTPCodecTypeVideo {
			pub.requestKeyFrame(l)
		}
	}
	pub.hub = hub
	return tracks, hub, nil
}

// RequestKeyFrame asks a publisher for a key frame on the layer the hub is
// fed from (and every other layer), rate-limited per layer.
func (s *Server) RequestKeyFrame(stageARN, participantID string) error {
	pub, err := s.publisherOf(stageARN, participantID)
	if err != nil {
		return err
	}
	pub.mu.RLock()
	tracks := append([]*pubTrack(nil), pub.tracks...)
	pub.mu.RUnlock()
	for _, t := range tracks {
		if t.kind != webrtc.RTPCodecTypeVideo {
			continue
		}
		t.mu.Lock()
		layers := append([]*layer(nil), t.layers...)
		t.mu.Unlock()
		for _, l := range layers {
			pub.requestKeyFrame(l)
		}
	}
	return nil
}

// Watch reports who joins, leaves, publishes and unpublishes on a stage,
// across its sessions, starting with a RoomJoined (and RoomPublished) for
// everyone already there. The channel is closed when cancel is called or
// the server closes; a reader that falls 64 events behind loses events.
func (s *Server) Watch(stageARN string) (<-chan RoomEvent, func()) {
	ch := make(chan RoomEvent, 64)
	add := func() {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		if s.watchers[stageARN] == nil {
			s.watchers[stageARN] = map[chan RoomEvent]struct{}{}
		}
		s.watchers[stageARN][ch] = struct{}{}
	}
	if r := s.Room(stageARN); r != nil {
		r.mu.Lock()
		for _, p := range r.sortedParticipants() {
			if len(ch) >= cap(ch)-2 {
				break
			}
			info := p.info()
			ch <- RoomEvent{Type: RoomJoined, Participant: info}
			if info.Published {
				ch <- RoomEvent{Type: RoomPublished, Participant: info}
			}
		}
		add()
		r.mu.Unlock()
	} else {
		add()
	}
	cancel := func() {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		if _, ok := s.watchers[stageARN][ch]; ok {
			delete(s.watchers[stageARN], ch)
			if len(s.watchers[stageARN]) == 0 {
				delete(s.watchers, stageARN)
			}
			close(ch)
		}
	}
	return ch, cancel
}

// WatchPublishers reports the stage's announced publishers (sorted by join
// time) now and after every change (publish, unpublish, leave, mute) until
// ctx is done or the server closes; the channel is then closed. A slow
// reader only misses intermediate lists: the latest one is kept.
func (s *Server) WatchPublishers(ctx context.Context, stageARN string) <-chan []ParticipantInfo {
	ch, cancel := s.Watch(stageARN)
	out := make(chan []ParticipantInfo, 1)
	s.goFn(func() {
		defer close(out)
		defer cancel()
		pubs := map[string]ParticipantInfo{}
		send := func() {
			list := make([]ParticipantInfo, 0, len(pubs))
			for _, p := range pubs {
				list = append(list, p)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Joined < list[j].Joined })
			select { // keep only the latest list
			case <-out:
			default:
			}
			out <- list
		}
		send()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				id := ev.Participant.ParticipantID
				switch ev.Type {
				case RoomPublished:
					pubs[id] = ev.Participant
				case RoomUpdated:
					if _, ok := pubs[id]; !ok || !ev.Participant.Published {
						continue
					}
					pubs[id] = ev.Participant
				case RoomUnpublished, RoomLeft:
					if _, ok := pubs[id]; !ok {
						continue
					}
					delete(pubs, id)
				default:
					continue
				}
				send()
			}
		}
	})
	return out
}
