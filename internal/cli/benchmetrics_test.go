package cli

import (
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	const name = "stagecast_sfu_forward_latency_seconds"
	before, err := parseHistogram(strings.NewReader(name+`_bucket{le="0.001"} 10
`+name+`_bucket{le="0.002"} 10
`+name+`_bucket{le="+Inf"} 10
`), name)
	if err != nil {
		t.Fatal(err)
	}
	// 100 more observations: 50 at or under 1 ms, 48 in (1, 2] ms, 2 above.
	after, err := parseHistogram(strings.NewReader(`# TYPE x histogram
`+name+`_bucket{le="0.001"} 60
`+name+`_bucket{le="0.002"} 108
`+name+`_bucket{le="+Inf"} 110
`+name+`_count 110
`), name)
	if err != nil {
		t.Fatal(err)
	}
	if got := quantile(before, after, 0.5); got != time.Millisecond {
		t.Fatalf("p50 %v, want 1ms (the 50th of 50 under the first bound)", got)
	}
	// p99: rank 99 of 100 lies beyond the 98 at or under 2 ms: the +Inf
	// bucket reports the last finite bound.
	if got := quantile(before, after, 0.99); got != 2*time.Millisecond {
		t.Fatalf("p99 %v, want 2ms", got)
	}
	// p75: rank 75 in (1, 2] ms, 25 of its 48: 1 ms + 25/48 ms.
	want := time.Millisecond + time.Duration(25*int64(time.Millisecond)/48)
	if got := quantile(before, after, 0.75); got < want-time.Microsecond || got > want+time.Microsecond {
		t.Fatalf("p75 %v, want %v", got, want)
	}
	if got := quantile(after, after, 0.5); got != 0 {
		t.Fatalf("no observations: %v", got)
	}
	if _, err := parseHistogram(strings.NewReader("nothing here\n"), name); err == nil {
		t.Fatal("missing histogram accepted")
	}
}

// FuzzParseHistogram: any /metrics text parses to a histogram or an error,
// and quantile never panics on what parses.
func FuzzParseHistogram(f *testing.F) {
	const name = "stagecast_sfu_forward_latency_seconds"
	f.Add(name + "_bucket{le=\"0.001\"} 3\n" + name + "_bucket{le=\"+Inf\"} 4\n")
	f.Add(name + "_bucket{le=\"x\"} 3\n")
	f.Add(name + "_bucket{le=\"+Inf\"} NaN\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > maxMetricsBytes {
			return
		}
		h, err := parseHistogram(strings.NewReader(text), name)
		if err != nil {
			return
		}
		if len(h.bounds) != len(h.counts) || len(h.bounds) == 0 {
			t.Fatalf("bounds %v counts %v", h.bounds, h.counts)
		}
		_ = quantile(histSnapshot{}, h, 0.99)
		_ = quantile(h, h, 0.5)
	})
}
