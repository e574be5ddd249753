package cli

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// idlePollOrSkip skips the test where the PM QoS device is missing or not
// writable (not Linux, not root).
func idlePollOrSkip(t *testing.T) int32 {
	t.Helper()
	before, err := cpuLatencyTarget()
	if err != nil {
		t.Skipf("no CPU wake-up latency target here: %v", err)
	}
	release, err := holdIdlePoll()
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		t.Skipf("cannot request a wake-up latency here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	return before
}

func TestHoldIdlePollSetsAndWithdrawsTheRequest(t *testing.T) {
	before := idlePollOrSkip(t)
	release, err := holdIdlePoll()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cpuLatencyTarget(); err != nil || got != 0 {
		release()
		t.Fatalf("while held: target %d us (%v), want 0", got, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if got, err := cpuLatencyTarget(); err != nil || got != before {
		t.Fatalf("after release: target %d us (%v), want %d as before", got, err, before)
	}
}

func TestBenchTokensIdlePoll(t *testing.T) {
	before := idlePollOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := BenchTokens(ctx, TokenBenchOptions{Duration: time.Second, Concurrency: 1, Client: "tcp", IdlePoll: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IdlePoll || res.CPULatencyTargetUs != 0 || res.Requests == 0 {
		t.Fatalf("result %+v: want the run held at a 0 us target", res)
	}
	if line := idleCoresLine(res); !strings.HasPrefix(line, "poll") {
		t.Fatalf("report says %q, want poll", line)
	}
	if got, err := cpuLatencyTarget(); err != nil || got != before {
		t.Fatalf("after the run: target %d us (%v), want %d: the request outlived the run", got, err, before)
	}
}

func TestIdleCoresLine(t *testing.T) {
	for _, c := range []struct {
		res  TokenBenchResult
		want string
	}{
		{TokenBenchResult{IdlePoll: true}, "poll (--idle-poll"},
		{TokenBenchResult{CPULatencyTargetUs: -1}, "unknown"},
		{TokenBenchResult{CPULatencyTargetUs: noCPULatencyRequest}, "may halt"},
		{TokenBenchResult{CPULatencyTargetUs: 20}, "wake-up latency target 20 us (requested by another process)"},
	} {
		if got := idleCoresLine(c.res); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want it to start %q", c.res, got, c.want)
		}
	}
}
