package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
)

const benchGlassUsage = `Usage: stagecast bench glass [flags]

Glass-to-glass latency of a low-latency channel. The publisher draws the
wall-clock time into every picture (48 black or white blocks, one bit each)
and pipes the pictures to ffmpeg, which encodes them (x264 zerolatency) and
publishes over RTMP to a throw-away server. An LL-HLS client follows the
channel at the live edge with blocking reloads, decodes every part with
ffmpeg and reads the time back from each decoded picture: latency = the
moment the picture is decoded - the moment it was drawn. A player's own
buffer (hls.js holds PART-HOLD-BACK behind the edge) and the display are not
included.

Flags:
  --duration D   measurement time after the channel is live (default 20s)
  --json         print the result as JSON
`

// GlassBenchResult is what "stagecast bench glass" measures.
type GlassBenchResult struct {
	DurationSeconds float64 `json:"durationSeconds"`
	Frames          int     `json:"frames"`
	P50Ms           float64 `json:"p50Ms"`
	P99Ms           float64 `json:"p99Ms"`
	MaxMs           float64 `json:"maxMs"`
	MinMs           float64 `json:"minMs"`
}

// Picture geometry of the time code: 48 bits as 12x4 blocks of 40x40
// pixels on a 640x360 grey picture.
const (
	glassW, glassH   = 640, 360
	glassBlock       = 40
	glassCols        = 12
	glassBits        = 48
	glassFPS         = 30
	glassBlockOrigin = 20
)

func benchGlass(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench glass", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchGlassUsage) }
	dur := fs.Duration("duration", 20*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := BenchGlass(ctx, *dur, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "stagecast bench glass: %v\n", err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	fmt.Fprintf(stdout, "glass to glass (drawn -> decoded by an LL-HLS client at the live edge), %d frames in %.0fs:\n", res.Frames, res.DurationSeconds)
	fmt.Fprintf(stdout, "  p50 %.0f ms  p99 %.0f ms  min %.0f ms  max %.0f ms\n", res.P50Ms, res.P99Ms, res.MinMs, res.MaxMs)
	return 0
}

// drawTime paints t (Unix milliseconds) into a grey picture.
func drawTime(pic []byte, t int64) {
	clear(pic)
	for b := range glassBits {
		if t>>(glassBits-1-b)&1 == 0 {
			continue
		}
		x0 := glassBlockOrigin + (b%glassCols)*glassBlock
		y0 := glassBlockOrigin + (b/glassCols)*glassBlock
		for y := y0; y < y0+glassBlock; y++ {
			row := pic[y*glassW:]
			for x := x0; x < x0+glassBlock; x++ {
				row[x] = 255
			}
		}
	}
}

// readTime reads the time code back from a decoded grey picture.
func readTime(pic []byte) int64 {
	var t int64
	for b := range glassBits {
		x := glassBlockOrigin + (b%glassCols)*glassBlock + glassBlock/2
		y := glassBlockOrigin + (b/glassCols)*glassBlock + glassBlock/2
		t <<= 1
		if pic[y*glassW+x] > 128 {
			t |= 1
		}
	}
	return t
}

// BenchGlass runs the glass-to-glass benchmark; progress goes to progress.
func BenchGlass(ctx context.Context, dur time.Duration, progress io.Writer) (GlassBenchResult, error) {
	res := GlassBenchResult{DurationSeconds: dur.Seconds()}
	a, stop, err := startBenchNode(ctx, "")
	if err != nil {
		return res, err
	}
	defer stop()
	client := nodeTarget(a).ivs()
	ch, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{
		Name: aws.String("glass"), Type: types.ChannelTypeBasicChannelType, InsecureIngest: true,
		LatencyMode: types.ChannelLatencyModeLowLatency, ContainerFormat: types.ContainerFormatFragmentedMP4,
	})
	if err != nil {
		return res, fmt.Errorf("create channel: %w", err)
	}

	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	enc := exec.CommandContext(pubCtx, "ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "gray", "-s", fmt.Sprintf("%dx%d", glassW, glassH), "-r", fmt.Sprint(glassFPS), "-i", "pipe:0",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", fmt.Sprint(glassFPS), "-pix_fmt", "yuv420p",
		"-f", "flv", "rtmp://"+a.RTMPAddr()+"/app/"+*ch.StreamKey.Value)
	in, err := enc.StdinPipe()
	if err != nil {
		return res, err
	}
	if err := enc.Start(); err != nil {
		return res, fmt.Errorf("start ffmpeg: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopPub()
	wg.Go(func() { _ = enc.Wait() })
	wg.Go(func() {
		defer in.Close()
		pic := make([]byte, glassW*glassH)
		tick := time.NewTicker(time.Second / glassFPS)
		defer tick.Stop()
		for {
			select {
			case <-pubCtx.Done():
				return
			case <-tick.C:
			}
			drawTime(pic, time.Now().UnixMilli())
			if _, err := in.Write(pic); err != nil {
				return
			}
		}
	})

	fmt.Fprintln(progress, "waiting for the channel to go live...")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := client.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("channel never went live")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	fmt.Fprintf(progress, "measuring for %s...\n", dur)
	mctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	lat, err := followAndDecode(mctx, *ch.Channel.PlaybackUrl)
	if err != nil && len(lat) == 0 {
		return res, err
	}
	if len(lat) == 0 {
		return res, fmt.Errorf("no frame decoded")
	}
	slices.Sort(lat)
	res.Frames = len(lat)
	res.P50Ms = ms(lat[len(lat)/2])
	res.P99Ms = ms(lat[len(lat)*99/100])
	res.MinMs, res.MaxMs = ms(lat[0]), ms(lat[len(lat)-1])
	return res, nil
}

// followAndDecode follows the first rendition at the live edge and returns
// the latency of every picture decoded from parts that appeared.
func followAndDecode(ctx context.Context, playbackURL string) ([]time.Duration, error) {
	mv, err := fetchLines(ctx, playbackURL)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(playbackURL)
	resolve := func(ref string, from *url.URL) string {
		r, err := url.Parse(ref)
		if err != nil {
			return ref
		}
		return from.ResolveReference(r).String()
	}
	media := ""
	for _, l := range mv {
		if !strings.HasPrefix(l, "#") {
			media = resolve(l, base)
			break
		}
	}
	mediaURL, _ := url.Parse(media)
	dir, err := os.MkdirTemp("", "stagecast-glass-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var (
		out     []time.Duration
		init    []byte
		run     []byte // parts since the last independent one
		decoded int    // pictures already taken from run
		seen    = map[string]bool{}
		first   = true
		next    string
	)
	for ctx.Err() == nil {
		lines, err := fetchLines(ctx, media+next)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		msn, part := 0, 0
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
				fmt.Sscan(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"), &msn)
			case strings.HasPrefix(l, "#EXT-X-MAP:") && init == nil:
				if b, err := fetchRaw(ctx, resolve(hlsAttr(l, "URI"), mediaURL)); err == nil {
					init = b
				}
			case strings.HasPrefix(l, "#EXT-X-PART:"):
				uri := hlsAttr(l, "URI")
				part++
				if seen[uri] {
					continue
				}
				seen[uri] = true
				if first {
					continue
				}
				b, err := fetchRaw(ctx, resolve(uri, mediaURL))
				if err != nil {
					continue
				}
				if strings.Contains(l, "INDEPENDENT=YES") {
					run, decoded = nil, 0
				}
				if run == nil && !strings.Contains(l, "INDEPENDENT=YES") {
					continue // wait for a part we can decode from
				}
				run = append(run, b...)
				pics, err := decodeGrey(ctx, dir, append(append([]byte(nil), init...), run...))
				now := time.Now()
				if err != nil {
					continue
				}
				for _, p := range pics[min(decoded, len(pics)):] {
					if t := readTime(p); t > 0 {
						out = append(out, now.Sub(time.UnixMilli(t)))
					}
				}
				decoded = len(pics)
			case !strings.HasPrefix(l, "#"):
				msn++
				part = 0
			}
		}
		first = false
		next = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", msn, part)
	}
	return out, nil
}

// decodeGrey decodes an fMP4 byte run into grey pictures.
func decodeGrey(ctx context.Context, dir string, data []byte) ([][]byte, error) {
	f := filepath.Join(dir, "run.mp4")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		return nil, err
	}
	var o bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", f, "-f", "rawvideo", "-pix_fmt", "gray", "-")
	cmd.Stdout = &o
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	const size = glassW * glassH
	var pics [][]byte
	for b := o.Bytes(); len(b) >= size; b = b[size:] {
		pics = append(pics, b[:size])
	}
	return pics, nil
}
