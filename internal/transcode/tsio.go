package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/substructs"

	"github.com/stagecast/stagecast/internal/media"
)

const (
	// tsClock is the MPEG-TS timestamp clock.
	tsClock = 90000
	// tsMask keeps the 33 bits of an MPEG-TS timestamp.
	tsMask = 1<<33 - 1
	// tsStart is where an incarnation's input timestamps start (10 s), so
	// that DTS and PCR (written 100 ms before DTS) stay positive.
	tsStart = 10 * tsClock
	// tsWriteBuffer batches the 188-byte packets of one unit into one
	// pipe write.
	tsWriteBuffer = 64 << 10
	// maxJumpBack and maxJumpAhead bound how far a unit's DTS may move
	// from its track's previous one before it counts as a new timeline (a
	// reconnected publisher): ffmpeg cannot follow that with -copyts, so
	// the child is restarted (ErrRestart). Reordering and small gaps stay
	// well inside; a stream.Reader that lost 5 s of units restarts too.
	maxJumpBack  = tsClock
	maxJumpAhead = 5 * tsClock
)

// errNoVideo is returned when a source has no video track to encode.
var errNoVideo = errors.New("source has no video track")

// tsInput writes a source's units to a child as MPEG-TS: the first video
// and the first audio track, from the first video key frame on. Input
// timestamps are the source's shifted by a per-incarnation offset, which
// fromTS removes from the child's output timestamps.
type tsInput struct {
	bw     *bufio.Writer
	w      *mpegts.Writer
	tracks []media.Track
	ts     map[int]*mpegts.Track // by media track ID
	video  int                   // media track ID of the video, -1 if none
	key    bool                  // a video key frame was written
	last   map[int]int64         // last written DTS per track (source, 90 kHz)

	// Read by the output readers (other goroutines).
	offset  atomic.Int64 // added to source ticks (90 kHz)
	lastDTS atomic.Int64 // last written video DTS (source, 90 kHz)
	started atomic.Bool
}

func newTSInput(tracks []media.Track, out io.Writer, videoOnly bool) (*tsInput, error) {
	in := &tsInput{bw: bufio.NewWriterSize(out, tsWriteBuffer), tracks: tracks, ts: map[int]*mpegts.Track{}, video: -1,
		last: map[int]int64{}}
	var list []*mpegts.Track
	haveAudio := false
	for _, t := range tracks {
		var c tscodecs.Codec
		switch {
		case t.Kind == media.Video && in.video < 0 && t.Codec == media.H264:
			c = &tscodecs.H264{}
			in.video = t.ID
		case t.Kind == media.Video && in.video < 0 && t.Codec == media.H265:
			c = &tscodecs.H265{}
			in.video = t.ID
		case t.Kind == media.Audio && !haveAudio && !videoOnly && t.Codec == media.AAC:
			var conf mpeg4audio.AudioSpecificConfig
			if err := conf.Unmarshal(t.AACConfig); err != nil {
				return nil, fmt.Errorf("audio track %d: %w", t.ID, err)
			}
			c = &tscodecs.MPEG4Audio{Config: conf}
			haveAudio = true
		case t.Kind == media.Audio && !haveAudio && !videoOnly && t.Codec == media.Opus:
			c = &tscodecs.Opus{Desc: &substructs.OpusAudioDescriptor{ChannelConfigCode: uint8(min(max(t.Channels, 1), 2))}}
			haveAudio = true
		default:
			continue
		}
		mt := &mpegts.Track{Codec: c}
		in.ts[t.ID] = mt
		list = append(list, mt)
	}
	if in.video < 0 {
		return nil, errNoVideo
	}
	in.w = &mpegts.Writer{W: in.bw, Tracks: list}
	if err := in.w.Initialize(); err != nil {
		return nil, fmt.Errorf("mpeg-ts writer: %w", err)
	}
	return in, nil
}

func toTS(ticks int64, clock int) int64 {
	if clock == tsClock || clock <= 0 {
		return ticks
	}
	return ticks * tsClock / int64(clock)
}

// jumped reports whether u starts a new timeline: its DTS is far from the
// previous written unit of its track. Only meaningful once writing began.
func (in *tsInput) jumped(u *media.Unit) bool {
	if !in.key || u.Track < 0 || u.Track >= len(in.tracks) {
		return false
	}
	prev, ok := in.last[u.Track]
	if !ok {
		return false
	}
	d := toTS(u.DTS, in.tracks[u.Track].ClockRate) - prev
	return d < -maxJumpBack || d > maxJumpAhead
}

// write writes one unit (nothing before the first video key frame, or for
// tracks that are not fed).
func (in *tsInput) write(u *media.Unit) error {
	mt := in.ts[u.Track]
	if mt == nil || u.Track < 0 || u.Track >= len(in.tracks) {
		return nil
	}
	t := in.tracks[u.Track]
	if !in.key {
		if u.Track != in.video || !u.Key {
			return nil
		}
		in.key = true
		in.offset.Store(tsStart - toTS(u.DTS, t.ClockRate))
		in.started.Store(true)
	}
	off := in.offset.Load()
	in.last[u.Track] = toTS(u.DTS, t.ClockRate)
	pts := (toTS(u.PTS, t.ClockRate) + off) & tsMask
	var err error
	switch c := mt.Codec.(type) {
	case *tscodecs.H264, *tscodecs.H265:
		dts := (toTS(u.DTS, t.ClockRate) + off) & tsMask
		au := u.NALUs
		if u.Key {
			au = withParams(t, au)
		}
		if len(au) == 0 {
			return nil
		}
		if _, ok := c.(*tscodecs.H264); ok {
			err = in.w.WriteH264(mt, pts, dts, au)
		} else {
			err = in.w.WriteH265(mt, pts, dts, au)
		}
		in.lastDTS.Store(toTS(u.DTS, t.ClockRate))
	case *tscodecs.MPEG4Audio:
		err = in.w.WriteMPEG4Audio(mt, pts, [][]byte{u.Payload})
	case *tscodecs.Opus:
		err = in.w.WriteOpus(mt, pts, [][]byte{u.Payload})
	}
	if err != nil {
		return fmt.Errorf("mux unit: %w", err)
	}
	if err := in.bw.Flush(); err != nil {
		return fmt.Errorf("write to process: %w", err)
	}
	return nil
}

// withParams prepends the track's parameter sets to a key frame that does
// not carry them in band (RTMP sources keep them in the track).
func withParams(t media.Track, au [][]byte) [][]byte {
	var params [][]byte
	switch t.Codec {
	case media.H264:
		for _, n := range au {
			if len(n) > 0 && n[0]&0x1f == 7 {
				return au
			}
		}
		params = [][]byte{t.SPS, t.PPS}
	case media.H265:
		for _, n := range au {
			if len(n) > 0 && (n[0]>>1)&0x3f == 33 {
				return au
			}
		}
		params = [][]byte{t.VPS, t.SPS, t.PPS}
	}
	out := make([][]byte, 0, len(au)+len(params))
	for _, p := range params {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return append(out, au...)
}

// fromTS maps a timestamp read from the child's output (33 bits, with the
// input offset) back to the source timeline in 90 kHz: the value
// congruent to it nearest to the last fed DTS.
func (in *tsInput) fromTS(raw int64) int64 {
	ref := in.lastDTS.Load()
	d := (raw - in.offset.Load() - ref) & tsMask
	if d >= 1<<32 {
		d -= 1 << 33
	}
	return ref + d
}

// stripAUD removes access unit delimiters (muxers add their own).
func stripAUD(au [][]byte) [][]byte {
	out := au[:0:0]
	for _, n := range au {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			continue
		}
		out = append(out, n)
	}
	return out
}
