package cli

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
)

// TestHeapFloorRaisesTheGoalNotTheResidentSet checks both halves of the
// bargain: the collector's heap goal moves above the floor, and resident
// memory grows by far less than the floor's size. Like `serve`, it needs a
// fresh process (a heap that has freed big blocks before hands them out
// again, and they are zeroed, i.e. touched), so it re-runs itself alone.
func TestHeapFloorRaisesTheGoalNotTheResidentSet(t *testing.T) {
	if os.Getenv(heapFloorChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHeapFloorRaisesTheGoalNotTheResidentSet$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), heapFloorChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("fresh process: %v\n%s", err, out)
		}
		return
	}
	const mib = 256
	// Leave a block's worth of used pages free in the heap, returned to
	// the OS: the runtime is likely to place the floor there and, since
	// those pages were used, to zero (touch) them itself.
	used := make([]byte, mib<<20)
	for i := 0; i < len(used); i += 4096 {
		used[i] = 1 // one write per page makes it resident
	}
	used = nil
	runtime.GC()
	debug.FreeOSMemory()
	rss0 := residentKiB(t)
	release := heapFloor(mib)
	runtime.GC()
	goal := heapGoal()
	rss1 := residentKiB(t)
	release()
	if goal < 2*mib<<20 {
		t.Errorf("heap goal %d MiB with a %d MiB floor, want at least %d MiB", goal>>20, mib, 2*mib)
	}
	if grown := rss1 - rss0; grown > 32<<10 {
		t.Errorf("resident memory grew by %d MiB for a %d MiB floor, want the floor's pages untouched", grown>>10, mib)
	}
	if noop := heapFloor(0); noop == nil {
		t.Error("heapFloor(0) returned a nil release")
	}
}

// heapFloorChildEnv marks the re-run of the heap floor test in its own process.
const heapFloorChildEnv = "STAGECAST_HEAPFLOOR_TEST_CHILD"

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func residentKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
