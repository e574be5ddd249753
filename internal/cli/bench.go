package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/config"
)

const benchUsage = `Usage: stagecast bench tokens [flags]

Starts a throw-away server on 127.0.0.1, creates a stage, and measures signed
CreateParticipantToken calls over HTTP next to the raw ES384 signing rate of
this machine, measured in the same run. It also reports how busy the cores
were in each kind of slice (/proc/stat): the API's share of the ceiling is
its busy share relative to the ceiling slices' times what it does with the
busy time.

Flags:
  --duration D      time given to each measurement (default 10s); the
                    measurements alternate in one-second slices
  --warmup D        one uncounted slice of each measurement first (default
                    1s; 0 skips it): a machine that sat idle before the run
                    can sign slower for its first second, which would
                    flatter the API's share
  --concurrency N   concurrent clients (default 3 x GOMAXPROCS: with 2 per
                    core the cores sit idle a few per cent of the time,
                    waiting for wake-ups; p99 stays 2-3 ms)
  --client KIND     tcp: keep-alive TCP connections, HTTP/1.1 by hand, the SDK's
                    SigV4 signer (the leanest client: measures the server);
                    raw: net/http + the SDK's SigV4 signer;
                    sdk: the official aws-sdk-go-v2 ivsrealtime client (default tcp)
  --data-dir DIR    load the running server whose CLI profile is in DIR
                    instead of a throw-away in-process one
  --server-pid PID  that server's process id: its CPU time is then measured,
                    which tells the server's cost per token apart from the
                    load generator's on the same cores
  --baseline        also measure, in the same run, an HTTP server that only
                    mints tokens (no SigV4, routing, JSON or store): the floor
                    any API reaches with its client on the same cores
                    (in-process server and the tcp client only)
  --idle-poll       hold a 0 us CPU wake-up latency request (/dev/cpu_dma_latency,
                    root) for the run, so idle cores poll instead of halting:
                    a partial stand-in for a host whose idle cores wake quickly
  --cpuprofile F    write a CPU profile of this process to F
  --json            print the result as JSON
`

// TokenBenchResult is what `stagecast bench tokens` measures.
type TokenBenchResult struct {
	Client          string  `json:"client"`
	Cores           int     `json:"cores"`
	Concurrency     int     `json:"concurrency"`
	DurationSeconds float64 `json:"durationSeconds"`
	WarmupSeconds   float64 `json:"warmupSeconds"`
	RawSignPerSec   float64 `json:"rawSignPerSec"`
	RawSignMs       float64 `json:"rawSignMsPerCore"`
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"`
	TokensPerSec    float64 `json:"tokensPerSec"`
	P50Ms           float64 `json:"p50Ms"`
	P99Ms           float64 `json:"p99Ms"`
	CeilingPercent  float64 `json:"ceilingPercent"`
	// With a separate server process (--server-pid): its CPU time per
	// token during the API slices, and the raw signature's cost per core
	// as a share of it: the throughput that server would reach, as a
	// share of the ceiling, with the cores to itself.
	ServerCPUUsPerToken float64 `json:"serverCpuUsPerToken,omitempty"`
	ServerCeilingPct    float64 `json:"serverCeilingPercent,omitempty"`
	// With --baseline: the bare minting HTTP server, measured in the same
	// run with the same client (see baselineServer).
	BaselineTokensPerSec   float64 `json:"baselineTokensPerSec,omitempty"`
	BaselineP99Ms          float64 `json:"baselineP99Ms,omitempty"`
	BaselineCeilingPercent float64 `json:"baselineCeilingPercent,omitempty"`
	// The machine's CPUs' busy share (/proc/stat, every process) during
	// the ceiling, API and baseline slices. The API's share of the
	// ceiling is its busy share relative to the ceiling's, times what it
	// does with the busy time; idle cores in the API slices are time the
	// machine spent waiting (see docs/benchmarks.md), not working.
	BusyCeilingPercent  float64 `json:"busyCeilingPercent,omitempty"`
	BusyAPIPercent      float64 `json:"busyApiPercent,omitempty"`
	BusyBaselinePercent float64 `json:"busyBaselinePercent,omitempty"`
	// IdlePoll says the run held a 0 µs CPU wake-up latency request
	// (--idle-poll); CPULatencyTargetUs is the machine's target during
	// the run, whoever set it (-1: unknown, 2000000000: no request, idle
	// cores may halt).
	IdlePoll           bool  `json:"idlePoll"`
	CPULatencyTargetUs int64 `json:"cpuLatencyTargetUs"`
}

// TokenBenchOptions says what `stagecast bench tokens` runs.
type TokenBenchOptions struct {
	Duration    time.Duration // per measurement, alternated in benchSlice slices
	Warmup      time.Duration // one uncounted slice of each measurement first (0: none)
	Concurrency int
	Client      string // tcp, raw or sdk
	CPUProfile  string // file for a CPU profile of this process, or ""
	// DataDir, when set, names the data directory of a running server
	// (its CLI profile) to load instead of an in-process node; ServerPID
	// is that server's process id, for its CPU time (0: not measured).
	DataDir   string
	ServerPID int
	// Baseline adds a third measurement: a bare HTTP server that only
	// mints tokens, with the tcp client (see baselineServer).
	Baseline bool
	// IdlePoll holds a 0 µs CPU wake-up latency request for the run
	// (holdIdlePoll).
	IdlePoll bool
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "stage":
			return benchStage(ctx, args[1:], stdout, stderr)
		case "ingest":
			return benchIngest(ctx, args[1:], stdout, stderr)
		case "ladder":
			return benchLadder(ctx, args[1:], stdout, stderr)
		case "glass":
			return benchGlass(ctx, args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "tokens" {
		fmt.Fprint(stderr, benchUsage+"\n"+benchStageUsage+"\n"+benchIngestUsage+"\n"+benchLadderUsage+"\n"+benchGlassUsage)
		return 2
	}
	fs := flag.NewFlagSet("bench tokens", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 10*time.Second, "time per measurement, alternated in 1s slices")
	warmup := fs.Duration("warmup", benchSlice, "one uncounted slice of each measurement first")
	conc := fs.Int("concurrency", 3*runtime.GOMAXPROCS(0), "concurrent clients")
	client := fs.String("client", "tcp", "tcp, raw or sdk")
	asJSON := fs.Bool("json", false, "JSON output")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	dataDir := fs.String("data-dir", "", "data directory of a running server to load")
	pid := fs.Int("server-pid", 0, "that server's process id, for its CPU time")
	baseline := fs.Bool("baseline", false, "also measure a bare HTTP server that only mints tokens")
	idlePoll := fs.Bool("idle-poll", false, "hold a 0 us CPU wake-up latency request for the run (root)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *client != "tcp" && *client != "raw" && *client != "sdk" {
		fmt.Fprintf(stderr, "stagecast bench: --client must be tcp, raw or sdk, not %q\n", *client)
		return 2
	}
	if *pid != 0 && *dataDir == "" {
		fmt.Fprintln(stderr, "stagecast bench: --server-pid needs --data-dir (the server's data directory)")
		return 2
	}
	if *baseline && (*dataDir != "" || *client != "tcp") {
		fmt.Fprintln(stderr, "stagecast bench: --baseline runs in-process with the tcp client only (no --data-dir, --client tcp)")
		return 2
	}
	if *conc < 1 || *dur < benchSlice || *warmup < 0 {
		fmt.Fprintf(stderr, "stagecast bench: --concurrency must be at least 1, --duration at least %s and --warmup not negative\n", benchSlice)
		return 2
	}
	res, err := BenchTokens(ctx, TokenBenchOptions{Duration: *dur, Warmup: *warmup, Concurrency: *conc, Client: *client,
		CPUProfile: *cpuProfile, DataDir: *dataDir, ServerPID: *pid, Baseline: *baseline, IdlePoll: *idlePoll}, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "stagecast bench: %v\n", err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	fmt.Fprintf(stdout, "cores %d, concurrency %d, client %s, %.0fs per measurement\n", res.Cores, res.Concurrency, res.Client, res.DurationSeconds)
	fmt.Fprintf(stdout, "raw ES384 signing:          %8.0f signatures/s (%.3f ms per signature per core)\n", res.RawSignPerSec, res.RawSignMs)
	fmt.Fprintf(stdout, "CreateParticipantToken:     %8.0f tokens/s  p50 %.2f ms  p99 %.2f ms  (%d requests, %d errors)\n", res.TokensPerSec, res.P50Ms, res.P99Ms, res.Requests, res.Errors)
	fmt.Fprintf(stdout, "share of the signing ceiling: %.1f%%\n", res.CeilingPercent)
	if res.BaselineTokensPerSec > 0 {
		fmt.Fprintf(stdout, "bare minting HTTP server:   %8.0f tokens/s  p99 %.2f ms  (%.1f%% of the ceiling; the API reaches %.1f%% of it)\n",
			res.BaselineTokensPerSec, res.BaselineP99Ms, res.BaselineCeilingPercent, 100*res.TokensPerSec/res.BaselineTokensPerSec)
	}
	if res.BusyCeilingPercent > 0 && res.BusyAPIPercent > 0 {
		fmt.Fprintf(stdout, "cores busy (/proc/stat):    %8.1f%% in the ceiling slices, %.1f%% in the API slices", res.BusyCeilingPercent, res.BusyAPIPercent)
		if res.BusyBaselinePercent > 0 {
			fmt.Fprintf(stdout, ", %.1f%% in the bare server's", res.BusyBaselinePercent)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "idle cores:                 %s\n", idleCoresLine(res))
	if res.ServerCPUUsPerToken > 0 {
		fmt.Fprintf(stdout, "server CPU per token:       %8.1f us (the signature alone: %.1f us); with the cores to itself: %.1f%% of the ceiling\n",
			res.ServerCPUUsPerToken, res.RawSignMs*1000, res.ServerCeilingPct)
	}
	return 0
}

// BenchTokens runs the token benchmark; progress goes to progress.
// With o.CPUProfile, a pprof CPU profile of this process (client, and the
// server unless o.DataDir names a separate one) is written there.
func BenchTokens(ctx context.Context, o TokenBenchOptions, progress io.Writer) (TokenBenchResult, error) {
	dur, conc, client := o.Duration, o.Concurrency, o.Client
	res := TokenBenchResult{Client: client, Cores: runtime.GOMAXPROCS(0), Concurrency: conc, DurationSeconds: dur.Seconds(),
		WarmupSeconds: o.Warmup.Seconds()}

	var tgt benchTarget
	if o.DataDir == "" {
		a, stop, err := startBenchNode(ctx, "")
		if err != nil {
			return res, err
		}
		defer stop()
		tgt = nodeTarget(a)
	} else {
		var err error
		if tgt, err = profileTarget(o.DataDir); err != nil {
			return res, err
		}
	}
	serverCPU := func() (time.Duration, error) { return 0, nil }
	if o.ServerPID > 0 {
		if _, err := procCPU(o.ServerPID); err != nil {
			return res, err
		}
		serverCPU = func() (time.Duration, error) { return procCPU(o.ServerPID) }
	}

	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	sdk := tgt.realtime(httpClient)
	st, err := sdk.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("bench")})
	if err != nil {
		return res, fmt.Errorf("create stage: %w", err)
	}
	defer func() {
		_, _ = sdk.DeleteStage(context.WithoutCancel(ctx), &ivsrealtime.DeleteStageInput{Arn: st.Stage.Arn})
	}()
	call := func(ctx context.Context) error {
		_, err := sdk.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String("bench")})
		return err
	}
	switch client {
	case "raw":
		call = rawTokenCall(tgt.endpoint, tgt.region, tgt.creds, *st.Stage.Arn, httpClient)
	case "tcp":
		body, _ := json.Marshal(map[string]any{"stageArn": *st.Stage.Arn, "userId": "bench"})
		tc, err := newTCPTokenClient(tgt.endpoint, tgt.region, tgt.creds, body, conc)
		if err != nil {
			return res, err
		}
		defer tc.Close()
		call = tc.Call
	}
	if err := call(ctx); err != nil {
		return res, fmt.Errorf("warm-up call: %w", err)
	}
	key, err := auth.GenerateKey()
	if err != nil {
		return res, err
	}
	baseCall := func(context.Context) error { return nil }
	if o.Baseline {
		if client != "tcp" || o.DataDir != "" {
			return res, errors.New("--baseline needs the in-process server and the tcp client")
		}
		bs, err := startBaselineServer(key)
		if err != nil {
			return res, fmt.Errorf("baseline server: %w", err)
		}
		defer bs.Close()
		body, _ := json.Marshal(map[string]any{"stageArn": *st.Stage.Arn, "userId": "bench"})
		bc, err := newTCPTokenClient(bs.Endpoint(), tgt.region, tgt.creds, body, conc)
		if err != nil {
			return res, err
		}
		defer bc.Close()
		if err := bc.Call(ctx); err != nil {
			return res, fmt.Errorf("baseline warm-up call: %w", err)
		}
		baseCall = bc.Call
	}

	if o.IdlePoll {
		release, err := holdIdlePoll()
		if err != nil {
			return res, err
		}
		defer release()
		res.IdlePoll = true
	}
	res.CPULatencyTargetUs = -1
	if us, err := cpuLatencyTarget(); err == nil {
		res.CPULatencyTargetUs = int64(us)
	}

	if o.Warmup > 0 {
		// Not counted: after a pause the host may give this VM's cores a
		// slow first second, and only the ceiling would pay for it.
		fmt.Fprintf(progress, "warm-up: %s of each measurement, not counted\n", o.Warmup)
		rawSignSlice(ctx, key, o.Warmup, res.Cores)
		if o.Baseline {
			apiSlice(ctx, baseCall, o.Warmup, conc)
		}
		apiSlice(ctx, call, o.Warmup, conc)
	}

	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	// The measurements alternate in one-second slices so that CPU
	// frequency drift and neighbours on the host weigh on all equally.
	rounds := max(1, int(dur/benchSlice))
	fmt.Fprintf(progress, "%d rounds of %s raw ES384 signing on %d goroutines, then %s of CreateParticipantToken with %d clients\n",
		rounds, benchSlice, res.Cores, benchSlice, conc)
	if o.Baseline {
		fmt.Fprintf(progress, "each round also gives %s to the bare minting HTTP server, with the same client\n", benchSlice)
	}
	var (
		signs                      int64
		signTime, apTime           time.Duration
		srvCPU                     time.Duration
		all                        []time.Duration
		errs                       int64
		baseLat                    []time.Duration
		baseTime                   time.Duration
		rawBusy, apiBusy, baseBusy busyMeter
	)
	for r := range rounds {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		rawBusy.begin()
		n, el := rawSignSlice(ctx, key, benchSlice, res.Cores)
		rawBusy.end()
		signs += n
		signTime += el
		if o.Baseline {
			baseBusy.begin()
			lat, e, el := apiSlice(ctx, baseCall, benchSlice, conc)
			baseBusy.end()
			if e > 0 {
				return res, fmt.Errorf("baseline server: %d failed requests", e)
			}
			baseLat = append(baseLat, lat...)
			baseTime += el
		}
		cpu0, err := serverCPU()
		if err != nil {
			return res, err
		}
		apiBusy.begin()
		lat, e, el := apiSlice(ctx, call, benchSlice, conc)
		apiBusy.end()
		cpu1, err := serverCPU()
		if err != nil {
			return res, err
		}
		srvCPU += cpu1 - cpu0
		all = append(all, lat...)
		errs += e
		apTime += el
		fmt.Fprintf(progress, "  round %d/%d: %.0f sig/s, %.0f tokens/s\n", r+1, rounds,
			float64(n)/el.Seconds(), float64(len(lat))/el.Seconds())
	}
	res.RawSignPerSec = float64(signs) / signTime.Seconds()
	res.RawSignMs = float64(res.Cores) * 1000 / res.RawSignPerSec
	slices.Sort(all)
	res.Requests = int64(len(all))
	res.Errors = errs
	if len(all) == 0 {
		return res, fmt.Errorf("no successful request (%d errors)", res.Errors)
	}
	res.TokensPerSec = float64(len(all)) / apTime.Seconds()
	res.P50Ms = ms(all[len(all)/2])
	res.P99Ms = ms(all[len(all)*99/100])
	res.CeilingPercent = 100 * res.TokensPerSec / res.RawSignPerSec
	res.BusyCeilingPercent, res.BusyAPIPercent, res.BusyBaselinePercent = rawBusy.percent(), apiBusy.percent(), baseBusy.percent()
	if len(baseLat) > 0 {
		slices.Sort(baseLat)
		res.BaselineTokensPerSec = float64(len(baseLat)) / baseTime.Seconds()
		res.BaselineP99Ms = ms(baseLat[len(baseLat)*99/100])
		res.BaselineCeilingPercent = 100 * res.BaselineTokensPerSec / res.RawSignPerSec
	}
	if o.ServerPID > 0 && srvCPU > 0 {
		res.ServerCPUUsPerToken = float64(srvCPU.Microseconds()) / float64(len(all)+int(errs))
		res.ServerCeilingPct = 100 * res.RawSignMs * 1000 / res.ServerCPUUsPerToken
	}
	return res, nil
}

// benchSlice is the length of one measurement slice; the phases alternate.
const benchSlice = time.Second

// apiSlice runs conc clients calling call for d and returns the latencies
// of the successful calls, the error count and the elapsed time.
func apiSlice(ctx context.Context, call func(context.Context) error, d time.Duration, conc int) ([]time.Duration, int64, time.Duration) {
	lat := make([][]time.Duration, conc)
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var cw sync.WaitGroup
	for i := range conc {
		cw.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := call(ctx); err != nil {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	cw.Wait()
	return slices.Concat(lat...), errs.Load(), time.Since(start)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rawSignSlice counts ecdsa P-384 signatures of a SHA-384 digest made on n
// goroutines in d: the cost floor of minting one token.
func rawSignSlice(ctx context.Context, key *ecdsa.PrivateKey, d time.Duration, n int) (int64, time.Duration) {
	digest := sha512.Sum384([]byte("stagecast"))
	var count atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err == nil {
					count.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return count.Load(), time.Since(start)
}

// rawTokenCall signs each request with the SDK's SigV4 signer and sends it
// with net/http: the client side costs a signature and a round trip, so the
// figure measures the server rather than the SDK's middleware stack.
func rawTokenCall(endpoint, region string, creds aws.Credentials, stageARN string, hc *http.Client) func(context.Context) error {
	body, _ := json.Marshal(map[string]any{"stageArn": stageARN, "userId": "bench"})
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	signer := v4.NewSigner()
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/CreateParticipantToken", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if err := signer.SignHTTP(ctx, creds, req, hash, "ivs", region, time.Now()); err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// startBenchNode runs a throw-away node on 127.0.0.1 (every listener on a
// free port) with its data in dataDir, or in a temporary directory when
// dataDir is empty, under the same process settings `serve` applies (the
// heap floor). stop shuts it down, waits for it and removes the temporary
// directory.
func startBenchNode(ctx context.Context, dataDir string) (*app.App, func(), error) {
	cfg := config.Default()
	release := heapFloor(cfg.GCMinHeapMiB)
	cleanup := release
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "stagecast-bench-")
		if err != nil {
			release()
			return nil, nil, err
		}
		dataDir, cleanup = dir, func() { _ = os.RemoveAll(dir); release() }
	}
	cfg.DataDir = dataDir
	cfg.API.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTMP.Listen, cfg.RTMPS.Listen, cfg.SRT.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Log.Level = "warn"
	srvCtx, cancel := context.WithCancel(ctx)
	a, err := app.New(srvCtx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		cleanup()
		return nil, nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(srvCtx) })
	return a, func() { cancel(); wg.Wait(); cleanup() }, nil
}
