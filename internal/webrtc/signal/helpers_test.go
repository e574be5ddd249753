package signal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

// stage is a test stage on a whole in-process node.
type stage struct {
	t   *testing.T
	srv *testutil.Server
	arn string
	id  string
}

func newStage(t *testing.T) *stage {
	t.Helper()
	srv := testutil.Start(t, "")
	ctx := context.Background()
	out, err := srv.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("sfu-test")})
	if err != nil {
		t.Fatalf("create stage: %v", err)
	}
	arn := aws.ToString(out.Stage.Arn)
	return &stage{t: t, srv: srv, arn: arn, id: arn[len(arn)-12:]}
}

// token mints a participant token; caps nil means publish+subscribe.
func (s *stage) token(userID string, attrs map[string]string, caps ...rttypes.ParticipantTokenCapability) (string, string) {
	s.t.Helper()
	if caps == nil {
		caps = []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish, rttypes.ParticipantTokenCapabilitySubscribe}
	}
	out, err := s.srv.Realtime.CreateParticipantToken(context.Background(), &ivsrealtime.CreateParticipantTokenInput{
		StageArn: aws.String(s.arn), UserId: aws.String(userID), Attributes: attrs, Capabilities: caps})
	if err != nil {
		s.t.Fatalf("create participant token: %v", err)
	}
	return aws.ToString(out.ParticipantToken.Token), aws.ToString(out.ParticipantToken.ParticipantId)
}

func (s *stage) client(token string) *loadgen.Client {
	return &loadgen.Client{Base: s.srv.MediaEndpoint(), Token: token}
}

// activeSession waits for the stage's activeSessionId.
func (s *stage) activeSession(ctx context.Context) string {
	s.t.Helper()
	for {
		out, err := s.srv.Realtime.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(s.arn)})
		if err != nil {
			s.t.Fatalf("get stage: %v", err)
		}
		if id := aws.ToString(out.Stage.ActiveSessionId); id != "" {
			return id
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("stage has no active session")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// encodeVP8 makes an IVF file of n frames of 320x240 test video at 30 fps
// with a key frame every 15 frames.
func encodeVP8(t *testing.T, frames int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.ivf")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
		"testsrc=size=320x240:rate=30", "-frames:v", strconv.Itoa(frames), "-c:v", "libvpx", "-g", "15",
		"-b:v", "500k", "-deadline", "realtime", "-cpu-used", "8", "-y", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("ffmpeg produced nothing: %v", err)
	}
	return path
}

// feedSynthetic writes 30 fps of small VP8-shaped samples until ctx ends.
func feedSynthetic(ctx context.Context, tr *webrtc.TrackLocalStaticSample) {
	t := time.NewTicker(time.Second / 30)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		frame := make([]byte, 300)
		if i%30 != 0 {
			frame[0] = 1 // inter frame
		}
		_ = tr.WriteSample(media.Sample{Data: frame, Duration: time.Second / 30})
	}
}
