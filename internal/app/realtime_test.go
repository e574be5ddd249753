package app_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

// startRealtimeNode runs a node whose stage sessions end 1 s after the
// last participant leaves.
func startRealtimeNode(t *testing.T) (*app.App, *ivsrealtime.Client) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.API.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Realtime.SessionEndDelay = time.Second
	runCtx, cancel := context.WithCancel(context.Background())
	a, err := app.New(runCtx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(runCtx); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	_, rt := testutil.Clients(a.APIEndpoint(), a.Config().Region, a.Credentials.ID, a.Credentials.Secret)
	return a, rt
}

func TestRealtimeParticipantStateInTheAPI(t *testing.T) {
	a, rt := startRealtimeNode(t)
	c, cancel := context.WithTimeout(ctx, 50*time.Second)
	defer cancel()
	st, err := rt.CreateStage(c, &ivsrealtime.CreateStageInput{Name: aws.String("state")})
	if err != nil {
		t.Fatal(err)
	}
	arn := st.Stage.Arn
	if st.Stage.ActiveSessionId != nil {
		t.Fatalf("new stage has an active session %q", *st.Stage.ActiveSessionId)
	}
	tok, err := rt.CreateParticipantToken(c, &ivsrealtime.CreateParticipantTokenInput{StageArn: arn,
		UserId: aws.String("todd"), Attributes: map[string]string{"username": "todd", "isFeatured": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	pid := aws.ToString(tok.ParticipantToken.ParticipantId)
	cl := &loadgen.Client{Base: a.MediaEndpoint(), Token: aws.ToString(tok.ParticipantToken.Token),
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36"}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "todd")
	if err != nil {
		t.Fatal(err)
	}
	joinedAt := time.Now().Add(-time.Second)
	peer, err := cl.Publish(c, video)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := peer.WaitConnected(c); err != nil {
		t.Fatal(err)
	}
	feedCtx, stopFeed := context.WithCancel(c)
	var feedWG sync.WaitGroup
	feedWG.Go(func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for {
			select {
			case <-feedCtx.Done():
				return
			case <-tick.C:
				_ = video.WriteSample(media.Sample{Data: make([]byte, 200), Duration: time.Second / 30})
			}
		}
	})
	defer func() { stopFeed(); feedWG.Wait() }()

	var session string
	waitFor(t, c, "active session and a published participant", func() bool {
		g, err := rt.GetStage(c, &ivsrealtime.GetStageInput{Arn: arn})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		session = *g.Stage.ActiveSessionId
		p, err := rt.GetParticipant(c, &ivsrealtime.GetParticipantInput{StageArn: arn, SessionId: &session, ParticipantId: &pid})
		return err == nil && p.Participant.Published
	})
	p, err := rt.GetParticipant(c, &ivsrealtime.GetParticipantInput{StageArn: arn, SessionId: &session, ParticipantId: &pid})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Participant
	if string(got.State) != "CONNECTED" || aws.ToString(got.UserId) != "todd" || got.Attributes["username"] != "todd" ||
		aws.ToString(got.BrowserName) != "Chrome" || aws.ToString(got.BrowserVersion) != "120.0.6099.71" ||
		aws.ToString(got.OsName) != "Windows" || aws.ToString(got.OsVersion) != "10" || string(got.Protocol) != "WHIP" ||
		got.FirstJoinTime == nil || got.FirstJoinTime.Before(joinedAt) || got.FirstJoinTime.After(time.Now()) {
		t.Fatalf("participant: %+v", got)
	}
	sess, err := rt.GetStageSession(c, &ivsrealtime.GetStageSessionInput{StageArn: arn, SessionId: &session})
	if err != nil || sess.StageSession.StartTime == nil || sess.StageSession.EndTime != nil {
		t.Fatalf("session while live: %+v %v", sess, err)
	}

	// Leave; the participant is DISCONNECTED with its history, and the
	// session ends a second later.
	if err := peer.Close(c); err != nil {
		t.Fatalf("leave: %v", err)
	}
	waitFor(t, c, "participant DISCONNECTED", func() bool {
		p, err := rt.GetParticipant(c, &ivsrealtime.GetParticipantInput{StageArn: arn, SessionId: &session, ParticipantId: &pid})
		return err == nil && string(p.Participant.State) == "DISCONNECTED" && p.Participant.Published
	})
	var names []string
	waitFor(t, c, "participant events", func() bool {
		evs, err := rt.ListParticipantEvents(c, &ivsrealtime.ListParticipantEventsInput{StageArn: arn, SessionId: &session, ParticipantId: &pid})
		if err != nil {
			return false
		}
		names = names[:0]
		for _, e := range evs.Events {
			names = append(names, string(e.Name))
		}
		return slices.Contains(names, "LEFT")
	})
	for _, want := range []string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"} {
		if !slices.Contains(names, want) {
			t.Fatalf("events %v lack %s", names, want)
		}
	}
	waitFor(t, c, "session end", func() bool {
		s, err := rt.GetStageSession(c, &ivsrealtime.GetStageSessionInput{StageArn: arn, SessionId: &session})
		return err == nil && s.StageSession.EndTime != nil
	})
	g, err := rt.GetStage(c, &ivsrealtime.GetStageInput{Arn: arn})
	if err != nil || g.Stage.ActiveSessionId != nil {
		t.Fatalf("stage after the session ended: %+v %v", g, err)
	}
	ls, err := rt.ListStageSessions(c, &ivsrealtime.ListStageSessionsInput{StageArn: arn})
	if err != nil || len(ls.StageSessions) != 1 || aws.ToString(ls.StageSessions[0].SessionId) != session {
		t.Fatalf("sessions: %+v %v", ls, err)
	}
}

func waitFor(t *testing.T, c context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-c.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
