package media

import (
	"fmt"
	"time"
)

// Kind says whether a track carries video or audio.
type Kind int

// Track kinds.
const (
	Video Kind = iota + 1
	Audio
)

func (k Kind) String() string {
	switch k {
	case Video:
		return "video"
	case Audio:
		return "audio"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Codec names a codec the way IVS reports it in ingest configurations.
type Codec string

// Codecs Stagecast carries.
const (
	H264 Codec = "avc1"
	H265 Codec = "hvc1"
	AV1  Codec = "av01"
	VP8  Codec = "vp8"
	AAC  Codec = "mp4a"
	Opus Codec = "opus"
)

// Track describes one elementary stream.
type Track struct {
	// ID is the track's index in its stream, from 0.
	ID        int
	Kind      Kind
	Codec     Codec
	ClockRate int

	// Video: the codec configuration and the picture size (0 when unknown).
	SPS, PPS, VPS []byte // H.264 (SPS, PPS) and H.265 (VPS, SPS, PPS)
	AV1Config     []byte // AV1 sequence header OBU
	Width, Height int

	// Audio: AudioSpecificConfig for AAC, channel count and sample rate.
	AACConfig  []byte
	Channels   int
	SampleRate int
}

// String is for logs: "video avc1 1280x720" or "audio mp4a 48000Hz 2ch".
func (t Track) String() string {
	if t.Kind == Video {
		return fmt.Sprintf("video %s %dx%d", t.Codec, t.Width, t.Height)
	}
	return fmt.Sprintf("audio %s %dHz %dch", t.Codec, t.SampleRate, t.Channels)
}

// Unit is one access unit (video) or one frame (audio) of a track.
// A Unit is immutable once written to a hub: readers share it.
type Unit struct {
	Track int
	// PTS and DTS in the track's clock rate. DTS == PTS without B-frames.
	PTS, DTS int64
	// Key marks a video random access point (IDR or key frame; always true
	// for audio).
	Key bool
	// NALUs holds H.264/H.265 NAL units; Payload holds everything else
	// (AV1 temporal unit, AAC or Opus frame).
	NALUs   [][]byte
	Payload []byte
	// Discontinuity marks the first unit after a gap in the source: a
	// publisher that reconnected, or frames a reader dropped.
	Discontinuity bool
	// Arrival is when the unit reached the server, for latency figures.
	Arrival time.Time
}

// Size returns the payload size in bytes.
func (u *Unit) Size() int {
	n := len(u.Payload)
	for _, b := range u.NALUs {
		n += len(b)
	}
	return n
}

// Duration converts ticks in clockRate to a time.Duration.
func Duration(ticks int64, clockRate int) time.Duration {
	if clockRate <= 0 {
		return 0
	}
	sec := ticks / int64(clockRate)
	rem := ticks % int64(clockRate)
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(clockRate)
}

// Ticks converts a time.Duration to ticks in clockRate.
func Ticks(d time.Duration, clockRate int) int64 {
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*int64(clockRate) + rem*int64(clockRate)/int64(time.Second)
}

// MaxTimestampJump is the largest forward step between two samples of a
// stream's timing track (video, or audio when there is none) that is not
// a jump of the source's clock.
const MaxTimestampJump = 5 * time.Second

// MaxTimestampStepBack is the largest backward step of the timing track's
// DTS that is jitter rather than a restarted clock.
const MaxTimestampStepBack = 500 * time.Millisecond

// ClockJumped reports whether a step between two DTS of the timing track
// means the source's clock restarted or leapt (an encoder restart without
// a reconnect): no healthy stream steps that far.
func ClockJumped(step time.Duration) bool {
	return step > MaxTimestampJump || step < -MaxTimestampStepBack
}
