package loadgen_test

import (
	"context"
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
		Publishers: 2, Subscribers: 2, Bitrate: 500_000, FPS: 30,
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
}
