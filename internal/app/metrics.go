package app

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stagecast/stagecast/internal/control/api"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// metricsRoute mounts GET /metrics on the media listener, in the Prometheus
// text format (version 0.0.4): control API requests by operation and
// status, live channels, and the SFU's counters and forwarding-latency
// histogram (which `stagecast bench stage` reads from a separate server).
// Counts only; nothing in it is secret.
func (a *App) metricsRoute() {
	a.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		bw := bufio.NewWriter(w)
		if a.api != nil {
			writeAPIMetrics(bw, a.api.Requests())
		}
		if a.Live != nil {
			fmt.Fprintf(bw, "# HELP stagecast_live_channels Channels with a publisher attached.\n# TYPE stagecast_live_channels gauge\nstagecast_live_channels %d\n", a.Live.LiveCount())
		}
		if a.SFU != nil {
			hist, sum := a.SFU.ForwardLatencyHistogram()
			writeSFUMetrics(bw, a.SFU.Stats(), hist, sum)
		}
		_ = bw.Flush()
	})
}

func writeAPIMetrics(w *bufio.Writer, counts []api.RequestCount) {
	const name = "stagecast_api_requests_total"
	fmt.Fprintf(w, "# HELP %s Control API requests answered, by operation and HTTP status.\n# TYPE %s counter\n", name, name)
	for _, c := range counts {
		op := c.Operation
		if op == "" {
			op = "unknown"
		}
		fmt.Fprintf(w, "%s{operation=%q,code=\"%d\"} %d\n", name, op, c.Status, c.Count)
	}
}

func writeSFUMetrics(w *bufio.Writer, st sfu.Stats, hist []uint64, sum time.Duration) {
	gauge := func(name, help string, v int) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter := func(name, help string, v uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge("stagecast_sfu_stages", "Stages with a live session on the SFU.", st.Rooms)
	gauge("stagecast_sfu_publishers", "Publishing WHIP sessions.", st.Publishers)
	gauge("stagecast_sfu_subscribers", "Subscribing WHIP sessions.", st.Subscribers)
	counter("stagecast_sfu_forwarded_packets_total", "RTP packets handed to subscriber connections.", st.ForwardedPackets)
	counter("stagecast_sfu_forwarded_bytes_total", "RTP payload bytes handed to subscriber connections.", st.ForwardedBytes)
	counter("stagecast_sfu_dropped_packets_total", "RTP packets dropped: a writer queue was full, or the packet was more than 250 ms late.", st.DroppedPackets)

	const name = "stagecast_sfu_forward_latency_seconds"
	fmt.Fprintf(w, "# HELP %s In-server forwarding latency: publisher packet read to subscriber UDP send (after SRTP).\n# TYPE %s histogram\n", name, name)
	for i, b := range sfu.LatencyBounds {
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(b.Seconds(), 'g', -1, 64), hist[i])
	}
	total := hist[len(hist)-1]
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, total,
		name, strconv.FormatFloat(sum.Seconds(), 'g', -1, 64), name, total)
}
