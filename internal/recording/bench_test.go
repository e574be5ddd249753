package recording

import (
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// syntheticUnits is secs seconds of 30 fps video (20 KB frames, a key
// frame every second: about 4.8 Mbit/s) and 48 kHz AAC (1024-sample,
// 300-byte frames), interleaved by time.
func syntheticUnits(secs int) ([]media.Track, []*media.Unit) {
	tracks := []media.Track{
		{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, SPS: []byte{0x67, 0x64, 0x00, 0x1f}, PPS: []byte{0x68, 0xee}, Width: 1280, Height: 720},
		{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, AACConfig: []byte{0x11, 0x90}, Channels: 2, SampleRate: 48000},
	}
	frame := make([]byte, 20000)
	frame[0] = 0x41
	key := make([]byte, 20000)
	key[0] = 0x65
	aac := make([]byte, 300)
	var units []*media.Unit
	a := 0
	for i := 0; i < secs*30; i++ {
		vt := int64(i) * 3000
		for ; int64(a)*1024*90000/48000 <= vt; a++ {
			units = append(units, &media.Unit{Track: 1, PTS: int64(a) * 1024, DTS: int64(a) * 1024, Key: true, Payload: aac})
		}
		nal := frame
		if i%30 == 0 {
			nal = key
		}
		units = append(units, &media.Unit{Track: 0, PTS: vt, DTS: vt, Key: i%30 == 0, NALUs: [][]byte{nal}})
	}
	return tracks, units
}

// BenchmarkSegmenter measures muxing into MPEG-TS segments (one op = 10 s
// of 720p30 + AAC).
func BenchmarkSegmenter(b *testing.B) {
	tracks, units := syntheticUnits(10)
	var bytes int64
	for _, u := range units {
		bytes += int64(u.Size())
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		sg, err := newSegmenter(tracks, 2*time.Second, timelineStart, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range units {
			if _, err := sg.push(u); err != nil {
				b.Fatal(err)
			}
		}
		sg.flush()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(10*time.Second)*100, "%realtime/stream")
}

// BenchmarkRecordLocal measures a whole recording to the local directory
// (hub, segmenter, queue, fsync'd files, playlists; one op = 10 s of
// 720p30 + AAC fed as fast as the hub takes it, until Close has written
// everything).
func BenchmarkRecordLocal(b *testing.B) {
	tracks, units := syntheticUnits(10)
	var bytes int64
	for _, u := range units {
		bytes += int64(u.Size())
	}
	b.SetBytes(bytes)
	dir := b.TempDir()
	var dropped uint64
	for b.Loop() {
		m := NewManager(Config{Store: objstore.NewLocal(dir), SegmentDuration: 2 * time.Second, QueueSegments: 64}, nil, nil)
		hub := stream.NewHub(tracks, nil)
		if _, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-bench", RecordingConfig: recordingConfig(0, false),
			Renditions: []Rendition{{Name: "720p30", Width: 1280, Height: 720, Hub: hub}}}); err != nil {
			b.Fatal(err)
		}
		for i, u := range units {
			hub.Write(u)
			if i%64 == 63 {
				time.Sleep(50 * time.Microsecond) // let the reader keep up, as a live source would
			}
		}
		hub.Close()
		m.StreamEnded(testChannel, "st-bench")
		m.Close() // waits for every file, playlist and the metadata
		dropped += m.Dropped()
	}
	if dropped > 0 {
		b.Logf("%d segments dropped", dropped)
	}
}
