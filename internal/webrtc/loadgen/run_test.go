package loadgen_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

func TestRunMeasuresSubscribers(t *testing.T) {
	srv := testutil.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	st, err := srv.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("load")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Run(ctx, loadgen.Options{
		Base: srv.MediaEndpoint(),
		Mint: func(ctx context.Context, userID string) (string, string, error) {
			out, err := srv.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String(userID)})
			if err != nil {
				return "", "", err
			}
			return aws.ToString(out.ParticipantToken.Token), aws.ToString(out.ParticipantToken.ParticipantId), nil
		},
		Publishers: 2, Subscribers: 2, Bitrate: 500_000, FPS: 30, Pacing: 2.5,
		Warmup: time.Second, Duration: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Sessions != 4 || res.SentPackets == 0 || res.ReceivedPackets == 0 {
		t.Fatalf("result %+v", res)
	}
	// Loopback, light load: everything arrives, at about the sent rate.
	if res.LossPercent > 1 || res.DeliveredPercent < 80 || res.DeliveredPercent > 120 {
		t.Fatalf("loss %.2f%%, delivered %.1f%%", res.LossPercent, res.DeliveredPercent)
	}
	if mbps := res.PerSubscriberMbps; mbps < 0.3 || mbps > 0.8 {
		t.Fatalf("per session %.2f Mbps for 0.5 Mbps sent", mbps)
	}
	if res.E2EP50Ms <= 0 || res.E2EP99Ms < res.E2EP50Ms || res.CPUSeconds <= 0 {
		t.Fatalf("latency/cpu not measured: %+v", res)
	}

	// The server's /metrics counted the forwarding it did.
	resp, err := http.Get(srv.MediaEndpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	metric := func(name string) float64 {
		for line := range strings.SplitSeq(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("/metrics has no %s:\n%s", name, body)
		return 0
	}
	fwd := metric("stagecast_sfu_forwarded_packets_total")
	timed := metric("stagecast_sfu_forward_latency_seconds_count")
	inf := metric(`stagecast_sfu_forward_latency_seconds_bucket{le="+Inf"}`)
	sum := metric("stagecast_sfu_forward_latency_seconds_sum")
	if fwd < float64(res.ReceivedPackets) || timed <= 0 || inf != timed || sum <= 0 {
		t.Fatalf("forwarded %v (subscribers received %d), latency count %v, +Inf %v, sum %v", fwd, res.ReceivedPackets, timed, inf, sum)
	}
}
