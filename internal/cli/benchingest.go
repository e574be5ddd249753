package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/transcode"
)

const benchIngestUsage = `Usage: stagecast bench ingest [flags]

Starts a throw-away server on 127.0.0.1, creates BASIC low-latency channels,
and has ffmpeg push a pre-encoded 1280x720 30 fps H.264 + AAC file to each
over RTMP in real time (-re, stream copy: ffmpeg's own CPU is only muxing).
It reports the server's CPU per publisher, and for the first channel the
latency from a part's media time (EXT-X-PROGRAM-DATE-TIME, anchored on the
arrival of the segment's first frame) to an LL-HLS client holding the part,
with blocking playlist reloads as hls.js does.

Flags:
  --publishers N   concurrent publishers (default 4)
  --duration D     measurement time after every channel is live (default 30s)
  --bitrate B      video bitrate of the generated input, e.g. 2500k (default 2500k)
  --json           print the result as JSON
`

// IngestBenchResult is what "stagecast bench ingest" measures.
type IngestBenchResult struct {
	Publishers        int     `json:"publishers"`
	DurationSeconds   float64 `json:"durationSeconds"`
	VideoBitrate      string  `json:"videoBitrate"`
	ServerCPUSeconds  float64 `json:"serverCpuSeconds"`
	CorePercentPerPub float64 `json:"corePercentPerPublisher"`
	Parts             int     `json:"partsObserved"`
	LatencyP50Ms      float64 `json:"partLatencyP50Ms"`
	LatencyP99Ms      float64 `json:"partLatencyP99Ms"`
	LatencyMaxMs      float64 `json:"partLatencyMaxMs"`
}

func benchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchIngestUsage) }
	pubs := fs.Int("publishers", 4, "")
	dur := fs.Duration("duration", 30*time.Second, "")
	bitrate := fs.String("bitrate", "2500k", "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *pubs < 1 || *dur < time.Second {
		fmt.Fprintln(stderr, "stagecast bench ingest: --publishers must be >= 1 and --duration >= 1s")
		return 2
	}
	res, err := BenchIngest(ctx, *pubs, *dur, *bitrate, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "stagecast bench ingest: %v\n", err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	fmt.Fprintf(stdout, "publishers %d, %s video, %.0fs measured\n", res.Publishers, res.VideoBitrate, res.DurationSeconds)
	fmt.Fprintf(stdout, "server CPU: %.2f s, %.1f%% of a core per publisher\n", res.ServerCPUSeconds, res.CorePercentPerPub)
	fmt.Fprintf(stdout, "part media time -> LL-HLS client: p50 %.0f ms  p99 %.0f ms  max %.0f ms  (%d parts)\n",
		res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs, res.Parts)
	return 0
}

// BenchIngest runs the ingest benchmark; progress goes to progress.
func BenchIngest(ctx context.Context, pubs int, dur time.Duration, bitrate string, progress io.Writer) (IngestBenchResult, error) {
	res := IngestBenchResult{Publishers: pubs, DurationSeconds: dur.Seconds(), VideoBitrate: bitrate}
	dir, err := os.MkdirTemp("", "stagecast-bench-ingest-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	input := filepath.Join(dir, "input.flv")
	fmt.Fprintf(progress, "encoding a 20 s 1280x720 input at %s...\n", bitrate)
	gen := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
		"-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-f", "flv", input)
	if out, err := gen.CombinedOutput(); err != nil {
		return res, fmt.Errorf("encode input: %w: %s", err, out)
	}

	a, stop, err := startBenchNode(ctx, filepath.Join(dir, "data"))
	if err != nil {
		return res, err
	}
	defer stop()
	client := nodeTarget(a).ivs()

	fmt.Fprintf(progress, "starting %d publishers...\n", pubs)
	pubCtx, stopPubs := context.WithCancel(ctx)
	defer stopPubs()
	var pwg sync.WaitGroup
	defer pwg.Wait()
	defer stopPubs()
	var channels []*types.Channel
	for i := range pubs {
		out, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{
			Name: aws.String(fmt.Sprintf("bench-%d", i)), Type: types.ChannelTypeBasicChannelType,
			LatencyMode: types.ChannelLatencyModeLowLatency, ContainerFormat: types.ContainerFormatFragmentedMP4,
			InsecureIngest: true,
		})
		if err != nil {
			return res, fmt.Errorf("create channel: %w", err)
		}
		channels = append(channels, out.Channel)
		target := "rtmp://" + a.RTMPAddr() + "/app/" + *out.StreamKey.Value
		pwg.Go(func() {
			cmd := exec.CommandContext(pubCtx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
				"-i", input, "-c", "copy", "-f", "flv", target)
			_ = cmd.Run()
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, ch := range channels {
		for {
			if _, err := client.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Arn}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return res, fmt.Errorf("channel %s never went live", *ch.Name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	time.Sleep(3 * time.Second) // warm-up: first segments, connections

	fmt.Fprintf(progress, "measuring for %s...\n", dur)
	mctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var lat []time.Duration
	var lwg sync.WaitGroup
	lwg.Go(func() { lat = watchParts(mctx, *channels[0].PlaybackUrl) })
	cpu0 := selfCPU()
	<-mctx.Done()
	cpu := selfCPU() - cpu0
	lwg.Wait()

	res.ServerCPUSeconds = cpu.Seconds()
	res.CorePercentPerPub = 100 * cpu.Seconds() / dur.Seconds() / float64(pubs)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.Parts = len(lat)
		res.LatencyP50Ms = ms(lat[len(lat)/2])
		res.LatencyP99Ms = ms(lat[len(lat)*99/100])
		res.LatencyMaxMs = ms(lat[len(lat)-1])
	}
	return res, nil
}

// selfCPU is this process's user+system CPU time (the server and the
// latency client; ffmpeg runs in child processes and is not counted).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchParts follows the first rendition of a channel with blocking
// reloads and returns, for every part that appeared while watching, the
// time from the end of its media (program date time + offset) to the
// playlist that lists it being received.
func watchParts(ctx context.Context, playbackURL string) []time.Duration {
	mv, err := fetchLines(ctx, playbackURL)
	if err != nil {
		return nil
	}
	var media string
	for _, l := range mv {
		if !strings.HasPrefix(l, "#") {
			base, _ := url.Parse(playbackURL)
			ref, _ := url.Parse(l)
			media = base.ResolveReference(ref).String()
			break
		}
	}
	if media == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []time.Duration
	first := true
	next := ""
	for ctx.Err() == nil {
		lines, err := fetchLines(ctx, media+next)
		got := time.Now()
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		// Segment start times: a PROGRAM-DATE-TIME sets one, otherwise a
		// segment starts where the previous one (EXTINF) ended.
		var segStart time.Time
		var off, segDur time.Duration
		msn, part := 0, 0
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
				msn, _ = strconv.Atoi(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"))
			case strings.HasPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"):
				segStart, _ = time.Parse(time.RFC3339Nano, strings.TrimPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"))
				off = 0
			case strings.HasPrefix(l, "#EXTINF:"):
				d, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l, "#EXTINF:"), ","), 64)
				segDur = time.Duration(d * float64(time.Second))
			case strings.HasPrefix(l, "#EXT-X-PART:"):
				d, _ := strconv.ParseFloat(hlsAttr(l, "DURATION"), 64)
				off += time.Duration(d * float64(time.Second))
				uri := hlsAttr(l, "URI")
				if !seen[uri] {
					seen[uri] = true
					if !first && !segStart.IsZero() {
						out = append(out, got.Sub(segStart.Add(off)))
					}
				}
				part++
			case !strings.HasPrefix(l, "#"):
				if !segStart.IsZero() {
					segStart = segStart.Add(segDur)
				}
				off, segDur = 0, 0
				msn++
				part = 0
			}
		}
		first = false
		next = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", msn, part)
	}
	return out
}

func fetchLines(ctx context.Context, u string) ([]string, error) {
	body, err := fetchRaw(ctx, u)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// fetchRaw GETs u and returns the body of a 200 answer.
func fetchRaw(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

// hlsAttr reads NAME=value (quoted or not) from an HLS tag line.
func hlsAttr(line, name string) string {
	i := strings.Index(line, ":"+name+"=")
	if i < 0 {
		i = strings.Index(line, ","+name+"=")
	}
	if i < 0 {
		return ""
	}
	v := line[i+len(name)+2:]
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j]
		}
		return v
	}
	if j := strings.IndexByte(v, ','); j >= 0 {
		v = v[:j]
	}
	return v
}

const benchLadderUsage = `Usage: stagecast bench ladder [flags]

Encodes a test input (1280x720 or 1920x1080, 30 fps), then runs a channel
type's ABR ladder over it the way a live channel does (one ffmpeg fed by
Stagecast, renditions read back) and, at the same time, one hand-written
ffmpeg command producing the same ladder, and compares their CPU.

Flags:
  --type T      channel type: STANDARD, ADVANCED_SD or ADVANCED_HD (default STANDARD)
  --height H    input height, 720 or 1080 (default 720)
  --seconds S   input length (default 30)
  --rounds N    rounds; the median is reported (default 3)
`

func benchLadder(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench ladder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchLadderUsage) }
	typ := fs.String("type", "STANDARD", "")
	height := fs.Int("height", 720, "")
	seconds := fs.Int("seconds", 30, "")
	rounds := fs.Int("rounds", 3, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := os.MkdirTemp("", "stagecast-bench-ladder-")
	if err != nil {
		fmt.Fprintf(stderr, "stagecast bench ladder: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg := config.Default().Transcode
	input := filepath.Join(dir, "input.ts")
	fmt.Fprintf(stderr, "encoding a %d s %dp input...\n", *seconds, *height)
	if err := transcode.GenerateBenchInput(ctx, cfg, input, *seconds, *height); err != nil {
		fmt.Fprintf(stderr, "stagecast bench ladder: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "running %d rounds of the %s ladder next to the hand-written command...\n", *rounds, *typ)
	res, err := transcode.BenchLadder(ctx, cfg, input, *typ, *rounds, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintf(stderr, "stagecast bench ladder: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, res.String())
	return 0
}
