package cli

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestParseCPUStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	in := "cpu  2395252 61389 374730 1845392 9754 0 25013 16772 500 7\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n"
	got, err := parseCPUStat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := cpuTicks{busy: 2395252 + 61389 + 374730 + 0 + 25013 + 16772, idle: 1845392 + 9754}
	if got != want {
		t.Fatalf("got %+v, want %+v (guest time is already in user and nice)", got, want)
	}
	// Old kernels print fewer fields.
	if got, err := parseCPUStat([]byte("cpu 10 0 10 80\n")); err != nil || got != (cpuTicks{busy: 20, idle: 80}) {
		t.Fatalf("four fields: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2\n", "cpu 1 2 x 4 5\n", "cpu0 1 2 3 4 5\n"} {
		if _, err := parseCPUStat([]byte(bad)); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
}

func TestBusyMeterAddsSlices(t *testing.T) {
	if _, err := machineCPU(); err != nil {
		t.Skipf("no /proc/stat here: %v", err)
	}
	var m busyMeter
	if m.percent() != 0 {
		t.Fatal("nothing measured yet, want 0")
	}
	// Two slices of every core spinning: the machine is busy throughout.
	for range 2 {
		m.begin()
		spinAll(300 * time.Millisecond)
		m.end()
	}
	if p := m.percent(); p < 50 || p > 100 {
		t.Fatalf("cores busy %.1f%% while every core spun, want most of the time", p)
	}
	if total := m.sum.busy + m.sum.idle; total < 30 {
		t.Fatalf("%d ticks over 0.6 s on %d cores: the slices were not added", total, runtime.NumCPU())
	}
}

// spin keeps the calling goroutine on its core for d.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

// spinAll keeps GOMAXPROCS goroutines busy for d.
func spinAll(d time.Duration) {
	done := make(chan struct{})
	for range runtime.GOMAXPROCS(0) {
		go func() {
			spin(d)
			done <- struct{}{}
		}()
	}
	for range runtime.GOMAXPROCS(0) {
		<-done
	}
}

// BenchmarkIdleCoreWake measures how long a goroutine made runnable by a
// busy core takes to start on an idle one: the OS thread wake-up that every
// idle-to-busy transition of a core pays. The figure explains the idle
// share of the token benchmark's API slices (docs/benchmarks.md): on this
// project's VMs the median is 0.12-0.14 ms, half a P-384 signature; a
// machine whose idle cores poll or wake quickly takes microseconds.
//
//	go test -run '^$' -bench IdleCoreWake -benchtime 300x ./internal/cli/
func BenchmarkIdleCoreWake(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two cores")
	}
	wake := make(chan time.Time, 1)
	woke := make(chan time.Duration, 1)
	go func() {
		for t0 := range wake {
			woke <- time.Since(t0)
		}
	}()
	defer close(wake)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		spin(time.Millisecond) // the other core falls idle
		wake <- time.Now()
		spin(3 * time.Millisecond) // this core stays busy, so the other must wake
		lat = append(lat, <-woke)
	}
	slices.Sort(lat)
	us := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(us(0.5), "p50-µs")
	b.ReportMetric(us(0.99), "p99-µs")
}
