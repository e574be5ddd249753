package cli

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// cpuLatencyPath is the kernel's PM QoS interface for CPU wake-up latency
// (Linux): while a process holds it open with a value written, no CPU
// enters an idle state that takes longer than that many microseconds to
// leave. Closing the file withdraws the request.
const cpuLatencyPath = "/dev/cpu_dma_latency"

// holdIdlePoll asks for a CPU wake-up latency of 0 µs until release is
// called: idle CPUs then poll instead of halting. On this project's
// machines that cuts the tail of a wake-up (BenchmarkIdleCoreWake p99
// 136-170 µs instead of up to 1.3 ms) and the waker's cost, though the
// median stays near 100 µs (docs/benchmarks.md). It is what tuned's
// latency profiles do, scoped to this process and withdrawn on release or
// exit; it needs root. Idle cores spin while it is held, so only
// `bench tokens --idle-poll` uses it, never serve.
func holdIdlePoll() (release func() error, err error) {
	f, err := os.OpenFile(cpuLatencyPath, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("idle polling needs %s (Linux, root): %w", cpuLatencyPath, err)
	}
	if err := binary.Write(f, binary.NativeEndian, int32(0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("idle polling: write %s: %w", cpuLatencyPath, err)
	}
	return f.Close, nil
}

// cpuLatencyTarget reads the machine's current CPU wake-up latency target
// in microseconds: the smallest request any process holds, or the
// kernel's default (2,000,000,000) when none does.
func cpuLatencyTarget() (int32, error) {
	f, err := os.Open(cpuLatencyPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var b [4]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return 0, fmt.Errorf("read %s: %w", cpuLatencyPath, err)
	}
	return int32(binary.NativeEndian.Uint32(b[:])), nil
}

// noCPULatencyRequest is what cpuLatencyTarget reads when no process
// holds a request.
const noCPULatencyRequest = 2_000_000_000

// idleCoresLine says, for the bench report, whether the run's idle cores
// could halt.
func idleCoresLine(r TokenBenchResult) string {
	switch {
	case r.IdlePoll:
		return "poll (--idle-poll held a 0 us wake-up latency request)"
	case r.CPULatencyTargetUs < 0:
		return "unknown (no " + cpuLatencyPath + ")"
	case r.CPULatencyTargetUs == noCPULatencyRequest:
		return "may halt (no wake-up latency request; --idle-poll measures them polling)"
	default:
		return fmt.Sprintf("wake-up latency target %d us (requested by another process)", r.CPULatencyTargetUs)
	}
}
