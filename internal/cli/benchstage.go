package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

const benchStageUsage = `Usage: stagecast bench stage [flags]

Publishes synthetic 720p-like VP8 RTP (random payload with correct VP8
packetization, marker bits and 90 kHz timestamps; NOT decodable) from
in-process pion publishers through the SFU to in-process pion subscribers,
and measures at the subscribers: packet loss, received Mbps and latency.

By default a throw-away server runs in this process (CPU figures then cover
server and load generator together; the SFU's own forwarding latency is
reported separately). With --data-dir pointing at a running
'stagecast serve' (and --server-pid its process id), the load goes to that
server and CPU is the server process's alone.

Flags:
  --publishers N    publishers (default 1)
  --subscribers N   viewers; each subscribes to every publisher (default 10)
  --sweep LIST      run once per subscriber count, e.g. 10,25,50,100
  --bitrate R       bits/s per publisher, k/M suffixes (default 2.5M)
  --fps N           frames per second (default 30)
  --pacing F        send each frame's packets at F x bitrate, as a WebRTC
                    sender's pacer does (default 2.5, libwebrtc's factor);
                    0 sends every frame as one back-to-back burst
  --warmup D        before measuring (default 3s)
  --duration D      measured time (default 20s)
  --data-dir DIR    use the running server whose CLI profile is in DIR
  --server-pid PID  that server's process id, for its CPU time
  --cpuprofile F     write a CPU profile of this process (server and load) to F
  --json            JSON output
`

// StageBenchResult is one `stagecast bench stage` run.
type StageBenchResult struct {
	loadgen.Result
	// The SFU's forwarding latency (publisher read loop to subscriber UDP
	// send) and its dropped packets: in-process from the 10 µs histogram,
	// against a separate server from its /metrics (latency interpolated in
	// the histogram's buckets; 500 ms means "500 ms or more").
	ServerP50Ms     float64 `json:"serverP50Ms,omitempty"`
	ServerP99Ms     float64 `json:"serverP99Ms,omitempty"`
	ServerDropped   uint64  `json:"serverDroppedPackets"`
	LoadAverage1Min string  `json:"loadAverage1Min"`
}

func benchStage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench stage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchStageUsage) }
	pubs := fs.Int("publishers", 1, "")
	subs := fs.Int("subscribers", 10, "")
	sweep := fs.String("sweep", "", "")
	bitrate := fs.String("bitrate", "2.5M", "")
	fps := fs.Int("fps", 30, "")
	pacing := fs.Float64("pacing", 2.5, "")
	warmup := fs.Duration("warmup", 3*time.Second, "")
	dur := fs.Duration("duration", 20*time.Second, "")
	dataDir := fs.String("data-dir", "", "")
	pid := fs.Int("server-pid", 0, "")
	asJSON := fs.Bool("json", false, "")
	cpuProfile := fs.String("cpuprofile", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rate, err := parseRate(*bitrate)
	if err != nil || *pubs < 1 || *subs < 0 || *fps < 1 {
		fmt.Fprintf(stderr, "stagecast bench stage: bad flags (bitrate %q: %v)\n", *bitrate, err)
		return 2
	}
	counts := []int{*subs}
	if *sweep != "" {
		counts = nil
		for f := range strings.SplitSeq(*sweep, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "stagecast bench stage: bad --sweep %q\n", *sweep)
				return 2
			}
			counts = append(counts, n)
		}
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "stagecast bench stage: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "stagecast bench stage: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	for _, n := range counts {
		o := loadgen.Options{Publishers: *pubs, Subscribers: n, Bitrate: rate, FPS: *fps, Pacing: *pacing, Warmup: *warmup,
			Duration: *dur, Progress: progress}
		res, err := BenchStage(ctx, o, *dataDir, *pid)
		if err != nil {
			fmt.Fprintf(stderr, "stagecast bench stage: %v\n", err)
			return 1
		}
		if *asJSON {
			out, _ := json.Marshal(res)
			fmt.Fprintln(stdout, string(out))
			continue
		}
		fmt.Fprintf(stdout, "%d publisher(s) x %d subscriber(s) = %d sessions, %.1f Mbps each, %.0fs: loss %.3f%%, delivered %.1f%%, received %.1f Mbps (%.2f per session), e2e latency p50 %.2f ms p99 %.2f ms",
			res.Publishers, res.Subscribers, res.Sessions, float64(rate)/1e6, res.DurationSeconds, res.LossPercent, res.DeliveredPercent,
			res.ReceivedMbps, res.PerSubscriberMbps, res.E2EP50Ms, res.E2EP99Ms)
		if res.ServerP99Ms > 0 {
			fmt.Fprintf(stdout, ", SFU forwarding p50 %.3f ms p99 %.3f ms", res.ServerP50Ms, res.ServerP99Ms)
		}
		fmt.Fprintf(stdout, ", %s CPU %.2f cores, %.0f Mbps per core, SFU queue drops %d, load %s\n",
			res.CPUScope, res.CPUSeconds/res.DurationSeconds, res.MbpsPerCore, res.ServerDropped, res.LoadAverage1Min)
	}
	return 0
}

// BenchStage runs one stage benchmark against a throw-away in-process
// server (dataDir == "") or the running server whose profile is in dataDir.
func BenchStage(ctx context.Context, o loadgen.Options, dataDir string, serverPID int) (StageBenchResult, error) {
	var res StageBenchResult
	var tgt benchTarget
	var srv *sfu.Server
	if dataDir == "" {
		a, stop, err := startBenchNode(ctx, "")
		if err != nil {
			return res, err
		}
		defer stop()
		tgt, srv = nodeTarget(a), a.SFU
	} else {
		var err error
		if tgt, err = profileTarget(dataDir); err != nil {
			return res, err
		}
		if serverPID > 0 {
			o.ServerCPU = func() (time.Duration, error) { return procCPU(serverPID) }
		}
	}
	sdk := tgt.realtime(nil)
	st, err := sdk.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("bench-stage")})
	if err != nil {
		return res, fmt.Errorf("create stage: %w", err)
	}
	defer func() {
		_, _ = sdk.DeleteStage(context.WithoutCancel(ctx), &ivsrealtime.DeleteStageInput{Arn: st.Stage.Arn})
	}()
	arn := aws.ToString(st.Stage.Arn)
	o.StageID = arn[strings.LastIndex(arn, "/")+1:]
	o.Mint = func(ctx context.Context, userID string) (string, string, error) {
		out, err := sdk.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String(userID)})
		if err != nil {
			return "", "", err
		}
		tok := aws.ToString(out.ParticipantToken.Token)
		if o.Base == "" {
			if o.Base, err = whipBase(tok); err != nil {
				return "", "", err
			}
		}
		return tok, aws.ToString(out.ParticipantToken.ParticipantId), nil
	}
	if _, _, err := o.Mint(ctx, "probe"); err != nil { // learns the media base URL
		return res, err
	}
	// The SFU's forwarding latency over the measured window: read in
	// process, or scraped from a separate server's /metrics before and
	// after.
	var before metricsScrape
	var scrapeErr error
	if srv != nil {
		o.Progress = wrapProgress(o.Progress, func() { srv.ResetForwardLatency() })
	} else {
		o.Progress = wrapProgress(o.Progress, func() {
			before, scrapeErr = scrapeSFU(ctx, o.Base+"/metrics")
		})
	}
	drop0 := uint64(0)
	if srv != nil {
		drop0 = srv.Stats().DroppedPackets
	}
	r, err := loadgen.Run(ctx, o)
	if err != nil {
		return res, err
	}
	res.Result = r
	if srv != nil {
		l := srv.ForwardLatency()
		res.ServerP50Ms, res.ServerP99Ms = float64(l.P50)/1e6, float64(l.P99)/1e6
		res.ServerDropped = srv.Stats().DroppedPackets - drop0
	} else if scrapeErr == nil {
		after, err := scrapeSFU(ctx, o.Base+"/metrics")
		if err == nil {
			res.ServerP50Ms = float64(quantile(before.latency, after.latency, 0.50)) / 1e6
			res.ServerP99Ms = float64(quantile(before.latency, after.latency, 0.99)) / 1e6
			res.ServerDropped = uint64(after.dropped - before.dropped)
		} else if o.Progress != nil {
			o.Progress("SFU latency not available: %v", err)
		}
	} else if o.Progress != nil {
		o.Progress("SFU latency not available: %v", scrapeErr)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAverage1Min = strings.Fields(string(b))[0]
	}
	return res, nil
}

// wrapProgress calls reset when the measurement starts (the "measuring"
// progress line), so the SFU latency histogram covers the same window.
func wrapProgress(p func(string, ...any), reset func()) func(string, ...any) {
	return func(format string, a ...any) {
		if strings.HasPrefix(format, "measuring") {
			reset()
		}
		if p != nil {
			p(format, a...)
		}
	}
}

// whipBase reads the media base URL from a token's whip_url claim.
func whipBase(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("participant token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("participant token payload: %w", err)
	}
	var c struct {
		WhipURL string `json:"whip_url"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.WhipURL == "" {
		return "", fmt.Errorf("participant token has no whip_url")
	}
	return strings.TrimSuffix(c.WhipURL, "/whip"), nil
}

// parseRate parses "2.5M", "800k" or "2500000".
func parseRate(s string) (int, error) {
	mul := 1.0
	switch {
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mul, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mul, s = 1e3, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f*mul > 1e9 {
		return 0, fmt.Errorf("not a bitrate")
	}
	return int(f * mul), nil
}
