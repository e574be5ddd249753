package mix

import (
	"encoding/binary"
	"math"
	"sync"
	"time"
)

// Output format.
const (
	SampleRate = 48000
	Channels   = 2
	// FrameDuration is the mixing period.
	FrameDuration = 20 * time.Millisecond
	// FrameSamples is the interleaved sample count of one frame.
	FrameSamples = SampleRate * Channels * int(FrameDuration/time.Millisecond) / 1000
	// FrameBytes is one s16le frame.
	FrameBytes = FrameSamples * 2
)

// releasePerFrame is how fast the limiter's gain recovers (x per frame,
// about 6 dB per 300 ms).
const releasePerFrame = 1.05

// Stats counts one input's trouble.
type Stats struct {
	Underruns, Trimmed uint64
}

type input struct {
	buf    []int16
	primed bool
	odd    []byte // a trailing half sample from the last Write
	stats  Stats
}

// Mixer sums inputs. It is safe for concurrent use.
type Mixer struct {
	prebuffer, maxBuffer int // interleaved samples

	// mu guards inputs and gain.
	mu     sync.Mutex
	inputs map[string]*input
	gain   float64
}

// New returns a mixer; an input plays once prebuffer is queued and is
// trimmed to maxLatency.
func New(prebuffer, maxLatency time.Duration) *Mixer {
	s := func(d time.Duration) int { return int(d.Seconds()*SampleRate) * Channels }
	return &Mixer{prebuffer: s(prebuffer), maxBuffer: max(s(maxLatency), s(prebuffer)+FrameSamples), inputs: map[string]*input{}, gain: 1}
}

// Write queues s16le interleaved stereo PCM for input id (created on
// first use).
func (m *Mixer) Write(id string, pcm []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.inputs[id]
	if in == nil {
		in = &input{}
		m.inputs[id] = in
	}
	if len(in.odd) > 0 {
		pcm = append(in.odd, pcm...)
		in.odd = nil
	}
	n := len(pcm) / 2
	for i := range n {
		in.buf = append(in.buf, int16(binary.LittleEndian.Uint16(pcm[2*i:])))
	}
	if len(pcm)%2 == 1 {
		in.odd = []byte{pcm[len(pcm)-1]}
	}
	if over := len(in.buf) - m.maxBuffer; over > 0 {
		over += over % Channels
		in.buf = append(in.buf[:0], in.buf[over:]...)
		in.stats.Trimmed += uint64(over)
	}
}

// Remove forgets input id.
func (m *Mixer) Remove(id string) {
	m.mu.Lock()
	delete(m.inputs, id)
	m.mu.Unlock()
}

// Stats returns input id's counters.
func (m *Mixer) Stats(id string) Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in := m.inputs[id]; in != nil {
		return in.stats
	}
	return Stats{}
}

// Mix fills out (interleaved stereo, usually FrameSamples long) with the
// sum of every primed input; missing input is silence.
func (m *Mixer) Mix(out []int16) {
	acc := make([]int32, len(out))
	m.mu.Lock()
	for _, in := range m.inputs {
		if !in.primed {
			if len(in.buf) < m.prebuffer+len(out) {
				continue
			}
			in.primed = true
		}
		n := min(len(out), len(in.buf))
		for i, v := range in.buf[:n] {
			acc[i] += int32(v)
		}
		in.buf = append(in.buf[:0], in.buf[n:]...)
		if n < len(out) {
			in.primed = false
			in.stats.Underruns++
		}
	}
	g0 := m.gain
	m.mu.Unlock()

	peak := int32(0)
	for _, v := range acc {
		peak = max(peak, v, -v)
	}
	g1 := math.Min(1, g0*releasePerFrame)
	if peak > 0 && float64(peak)*g1 > math.MaxInt16 {
		g1 = math.MaxInt16 / float64(peak)
	}
	// Ramp from the previous gain to the new one across the frame; a
	// lower gain is reached by the first sample that needs it.
	frames := len(out) / Channels
	for i, v := range acc {
		g := g1
		if g1 > g0 && frames > 0 {
			g = g0 + (g1-g0)*float64(i/Channels)/float64(frames)
		}
		out[i] = clamp16(float64(v) * g)
	}
	m.mu.Lock()
	m.gain = g1
	m.mu.Unlock()
}

func clamp16(v float64) int16 {
	return int16(math.Max(math.MinInt16, math.Min(math.MaxInt16, math.Round(v))))
}

// Encode writes samples as s16le into b (which must be 2*len(samples)).
func Encode(b []byte, samples []int16) {
	for i, v := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
}
