package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procCPU returns a process's user+system CPU time from /proc (Linux,
// 100 clock ticks per second).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server cpu: %w", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("server cpu: short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// cpuTicks is the machine's CPU time so far, from the first line of
// /proc/stat, in clock ticks summed over all CPUs: idle (idle and iowait)
// and the rest.
type cpuTicks struct{ busy, idle uint64 }

// machineCPU reads the machine's CPU ticks (Linux).
func machineCPU() (cpuTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}, err
	}
	return parseCPUStat(b)
}

// parseCPUStat parses the aggregate "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal ... Guest time is already counted
// in user and nice, so the fields past steal are left out. Steal counts as
// busy: those ticks were not the machine's to use.
func parseCPUStat(b []byte) (cpuTicks, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTicks{}, errors.New("/proc/stat: no aggregate cpu line")
	}
	var t cpuTicks
	for i, s := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTicks{}, fmt.Errorf("/proc/stat: field %d: %w", i+1, err)
		}
		if i == 3 || i == 4 { // idle, iowait
			t.idle += n
		} else {
			t.busy += n
		}
	}
	return t, nil
}

// busyMeter adds up the machine's busy share over the slices of one
// measurement. It is a no-op where /proc/stat cannot be read.
type busyMeter struct {
	start cpuTicks
	sum   cpuTicks
	ok    bool
}

// begin marks the start of a slice.
func (m *busyMeter) begin() {
	t, err := machineCPU()
	m.start, m.ok = t, err == nil
}

// end adds the slice since begin.
func (m *busyMeter) end() {
	if !m.ok {
		return
	}
	t, err := machineCPU()
	if err != nil || t.busy < m.start.busy || t.idle < m.start.idle {
		m.ok = false
		return
	}
	m.sum.busy += t.busy - m.start.busy
	m.sum.idle += t.idle - m.start.idle
}

// percent is the busy share of the machine's CPU time over the slices
// measured, or 0 when nothing was measured.
func (m *busyMeter) percent() float64 {
	total := m.sum.busy + m.sum.idle
	if total == 0 {
		return 0
	}
	return 100 * float64(m.sum.busy) / float64(total)
}
