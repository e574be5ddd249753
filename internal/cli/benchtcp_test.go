package cli

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
)

func TestReadTokenResponse(t *testing.T) {
	cases := []struct {
		name, resp, wantErr string
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", ""},
		{"error status", "HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\n{}", "status 403"},
		{"no length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "content-length"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "read body"},
		{"not http", "SSH-2.0-OpenSSH\r\n", "bad status line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := readTokenResponse(bufio.NewReader(strings.NewReader(tc.resp)))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestBenchTokensClients runs one short round with each client against a
// real in-process node: every request must be answered 200 (a mis-signed or
// mis-framed request would count as an error).
func TestBenchTokensClients(t *testing.T) {
	for _, client := range []string{"tcp", "raw", "sdk"} {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Concurrency: 2, Client: client}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Errors != 0 || res.RawSignPerSec <= 0 || res.TokensPerSec <= 0 {
				t.Fatalf("result %+v: want requests, no errors, both rates", res)
			}
		})
	}
}

// TestBenchTokensWarmup: the warm-up runs before the first counted round,
// is reported, and adds no round of its own.
func TestBenchTokensWarmup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var progress strings.Builder
	res, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Warmup: 300 * time.Millisecond,
		Concurrency: 2, Client: "tcp"}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	out := progress.String()
	w, r := strings.Index(out, "warm-up: 300ms"), strings.Index(out, "round 1/1")
	if w < 0 || r < w || strings.Count(out, "round ") != 1 || res.WarmupSeconds != 0.3 {
		t.Fatalf("warm-up %.1fs, progress:\n%s\nwant the warm-up line, then one round", res.WarmupSeconds, out)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("result %+v: want requests, no errors", res)
	}
}

// TestBenchTokensSeparateServer loads a server through its data directory
// (the profile `serve` writes) and measures that server's CPU per token.
// The "separate" server runs in this process here, so its CPU includes the
// client's: the test checks the plumbing, not the figure.
func TestBenchTokensSeparateServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	_, stop, err := startBenchNode(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Concurrency: 2, Client: "tcp",
		DataDir: dir, ServerPID: os.Getpid()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("result %+v: want requests and no errors", res)
	}
	// At least the signature's cost per token, which is what the ceiling
	// rate measures per core.
	if res.ServerCPUUsPerToken < res.RawSignMs*1000/2 || res.ServerCeilingPct <= 0 || res.ServerCeilingPct > 200 {
		t.Fatalf("server CPU %.1f us per token, %.1f %% of the ceiling (signature %.1f us): implausible",
			res.ServerCPUUsPerToken, res.ServerCeilingPct, res.RawSignMs*1000)
	}

	if _, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Concurrency: 1, Client: "tcp",
		DataDir: t.TempDir()}, io.Discard); err == nil || !strings.Contains(err.Error(), "profile") {
		t.Fatalf("a data directory without a server: %v, want an error about its profile", err)
	}
}

// TestBenchTokensBaseline runs the three-way comparison for a second: the
// bare minting server must answer every request, and its rate is reported
// next to the API's.
func TestBenchTokensBaseline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Concurrency: 2, Client: "tcp", Baseline: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.BaselineTokensPerSec <= 0 || res.BaselineP99Ms <= 0 {
		t.Fatalf("result %+v: want API requests without errors and a baseline rate", res)
	}
	if want := 100 * res.BaselineTokensPerSec / res.RawSignPerSec; res.BaselineCeilingPercent != want {
		t.Fatalf("baseline share %.2f%%, want %.2f%%", res.BaselineCeilingPercent, want)
	}
	// Every slice's busy share is measured (Linux); in the ceiling slices
	// one signing goroutine per core keeps the machine busy, whatever else
	// runs beside the test.
	if _, err := machineCPU(); err != nil {
		return
	}
	for name, p := range map[string]float64{"ceiling": res.BusyCeilingPercent, "api": res.BusyAPIPercent, "baseline": res.BusyBaselinePercent} {
		if p <= 0 || p > 100 {
			t.Fatalf("%s slices: cores busy %.1f%%, want a share in (0, 100]", name, p)
		}
	}
	if res.BusyCeilingPercent < 50 {
		t.Fatalf("cores busy %.1f%% while every core signed: the meter is wrong", res.BusyCeilingPercent)
	}
}

// TestBaselineServerMintsVerifiableTokens: the floor server does the one
// thing it is there for, a real ES384 token per request.
func TestBaselineServerMintsVerifiableTokens(t *testing.T) {
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	bs, err := startBaselineServer(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(bs.Endpoint()+"/CreateParticipantToken", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ParticipantToken struct{ Token string } `json:"participantToken"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, decode %v", resp.StatusCode, err)
	}
	claims, err := auth.VerifyParticipant(out.ParticipantToken.Token,
		func(string) ([]*ecdsa.PublicKey, error) { return []*ecdsa.PublicKey{&key.PublicKey}, nil }, time.Now())
	if err != nil {
		t.Fatalf("baseline token does not verify: %v", err)
	}
	if claims.UserID != "bench" || !claims.Publish || !claims.Subscribe {
		t.Fatalf("claims %+v", claims)
	}
	if err := bs.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestBenchTokensFlags(t *testing.T) {
	for _, args := range [][]string{
		{"tokens", "--server-pid", "1"},
		{"tokens", "--concurrency", "0"},
		{"tokens", "--duration", "10ms"},
		{"tokens", "--warmup", "-1s"},
		{"tokens", "--client", "curl"},
		{"tokens", "--baseline", "--client", "raw"},
		{"tokens", "--baseline", "--data-dir", "somewhere"},
	} {
		var out, errb strings.Builder
		if code := bench(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a reason", args, code, errb.String())
		}
	}
}

// FuzzReadTokenResponse: whatever the server sends, the bench client's
// response reader returns nil or an error, never panics.
func FuzzReadTokenResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("HTTP/1.1 500 Internal\r\ncontent-length: 99999999999\r\n\r\n")
	f.Add("HTTP/1.1 200\r\n\r\n")
	f.Fuzz(func(t *testing.T, resp string) {
		_ = readTokenResponse(bufio.NewReader(strings.NewReader(resp)))
	})
}
