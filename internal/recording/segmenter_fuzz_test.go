package recording

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
)

// FuzzSegmenter feeds arbitrary units (track, flags, timestamps, NAL
// units or AAC payloads decoded from the input) to a segmenter: it must
// never panic, and every segment must be whole TS packets with a positive
// duration.
func FuzzSegmenter(f *testing.F) {
	// Seeds: a key frame, a P frame, an audio frame; a zero-length NALU; a
	// timestamp jump backwards; a discontinuity.
	f.Add([]byte{0, 1, 0, 0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 0, 0x0b, 0xb8, 2, 0x41, 0x9a, 1, 0, 0, 0, 0, 0, 4, 3, 0x21, 0x10, 0x05})
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 1, 0xff, 0xff, 0xff, 0xff, 1, 0x65, 0, 1, 0, 0, 0, 0, 1, 0x65, 0, 2, 0, 0, 0, 0x10, 1, 0x41})
	f.Fuzz(func(t *testing.T, in []byte) {
		tracks := []media.Track{
			{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, SPS: []byte{0x67, 0x42, 0xc0, 0x1e}, PPS: []byte{0x68, 0xce}},
			{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, AACConfig: []byte{0x11, 0x90}, SampleRate: 48000, Channels: 2},
		}
		sg, err := newSegmenter(tracks, time.Second, timelineStart, false)
		if err != nil {
			t.Fatal(err)
		}
		check := func(s *segment) {
			if s == nil {
				return
			}
			if len(s.data)%188 != 0 || s.duration <= 0 {
				t.Fatalf("segment of %d bytes, duration %v", len(s.data), s.duration)
			}
		}
		// Unit record: flags(1: bit0 audio, bit1 key, bit2 discontinuity),
		// dts delta (4, signed), size (1), payload.
		var dts int64
		for len(in) >= 6 {
			flags := in[0]
			dts += int64(int32(binary.BigEndian.Uint32(in[1:5])))
			n := int(in[5])
			in = in[6:]
			n = min(n, len(in))
			payload := in[:n]
			in = in[n:]
			u := &media.Unit{DTS: dts, PTS: dts, Key: flags&2 != 0, Discontinuity: flags&4 != 0}
			if flags&1 != 0 {
				u.Track, u.Payload, u.Key = 1, payload, true
				u.DTS, u.PTS = dts*48000/90000, dts*48000/90000
			} else {
				// Split the payload into NAL units at zero bytes (empty
				// ones included).
				start := 0
				for i := 0; i <= len(payload); i++ {
					if i == len(payload) || payload[i] == 0 {
						u.NALUs = append(u.NALUs, payload[start:i])
						start = i + 1
					}
				}
			}
			seg, err := sg.push(u)
			check(seg)
			_ = err // malformed input may be refused, never panic
		}
		check(sg.flush())
	})
}
