package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// histSnapshot is one scrape of a Prometheus histogram: cumulative counts
// by upper bound (seconds; +Inf last).
type histSnapshot struct {
	bounds []float64
	counts []float64
}

// maxMetricsBytes bounds a /metrics response the bench reads.
const maxMetricsBytes = 1 << 20

// metricsScrape is one read of the SFU's /metrics: the forwarding-latency
// histogram and the dropped-packets counter.
type metricsScrape struct {
	latency histSnapshot
	dropped float64
}

// scrapeSFU reads the SFU's metrics from a Prometheus text endpoint.
func scrapeSFU(ctx context.Context, url string) (metricsScrape, error) {
	var m metricsScrape
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return m, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetricsBytes))
	if err != nil {
		return m, fmt.Errorf("scrape %s: %w", url, err)
	}
	if m.latency, err = parseHistogram(bytes.NewReader(body), "stagecast_sfu_forward_latency_seconds"); err != nil {
		return m, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "stagecast_sfu_dropped_packets_total "); ok {
			if m.dropped, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return m, fmt.Errorf("bad dropped counter %q", line)
			}
		}
	}
	return m, nil
}

// parseHistogram extracts name's _bucket lines (no other labels than le).
func parseHistogram(r io.Reader, name string) (histSnapshot, error) {
	var h histSnapshot
	prefix := name + `_bucket{le="`
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		le, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			return h, fmt.Errorf("bad bucket line %q", line)
		}
		bound := math.Inf(1)
		if le != "+Inf" {
			b, err := strconv.ParseFloat(le, 64)
			if err != nil {
				return h, fmt.Errorf("bad bucket bound %q", le)
			}
			bound = b
		}
		c, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return h, fmt.Errorf("bad bucket count %q", val)
		}
		h.bounds = append(h.bounds, bound)
		h.counts = append(h.counts, c)
	}
	if err := sc.Err(); err != nil {
		return h, err
	}
	if len(h.bounds) == 0 || !math.IsInf(h.bounds[len(h.bounds)-1], 1) {
		return h, fmt.Errorf("no %s histogram ending in +Inf", name)
	}
	return h, nil
}

// quantile estimates the q-quantile of the observations between two
// snapshots (before, after) the way Prometheus's histogram_quantile does:
// linear interpolation inside the bucket, the last finite bound for the
// +Inf bucket. It returns 0 with no observations.
func quantile(before, after histSnapshot, q float64) time.Duration {
	if len(before.counts) != len(after.counts) {
		before = histSnapshot{bounds: after.bounds, counts: make([]float64, len(after.counts))}
	}
	n := len(after.counts)
	total := after.counts[n-1] - before.counts[n-1]
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i := range after.counts {
		c := after.counts[i] - before.counts[i]
		if c >= rank {
			if math.IsInf(after.bounds[i], 1) {
				return time.Duration(prevBound * float64(time.Second))
			}
			frac := 0.0
			if c > prevCount {
				frac = (rank - prevCount) / (c - prevCount)
			}
			v := prevBound + (after.bounds[i]-prevBound)*frac
			return time.Duration(v * float64(time.Second))
		}
		prevBound, prevCount = after.bounds[i], c
	}
	return time.Duration(prevBound * float64(time.Second))
}
