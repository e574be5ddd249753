package signal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
	"github.com/stagecast/stagecast/internal/webrtc/signal"
)

// Neighbours of the SFU for a unit-level test: a token table, and
// recorders for the control plane and the event bus.
type tokenTable map[string]auth.ParticipantClaims

func (t tokenTable) VerifyToken(_ context.Context, tok string) (auth.ParticipantClaims, error) {
	if c, ok := t[tok]; ok {
		return c, nil
	}
	return auth.ParticipantClaims{}, auth.ErrTokenSignature
}

type recorder struct {
	mu     sync.Mutex
	events []map[string]any
	names  []string
	ended  []string
}

func (r *recorder) Publish(_ context.Context, detailType string, resources []string, detail map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if detailType == "IVS Stage Update" && len(resources) == 1 && resources[0] == "arn:stage/s1" {
		r.events = append(r.events, detail)
	}
}
func (r *recorder) StartSession(context.Context, string) (string, error) { return "st-1", nil }
func (r *recorder) EndSession(_ context.Context, _, id string) error {
	r.mu.Lock()
	r.ended = append(r.ended, id)
	r.mu.Unlock()
	return nil
}
func (r *recorder) RecordParticipant(context.Context, string, string, *rtapi.Participant) error {
	return nil
}
func (r *recorder) RecordParticipantEvent(_ context.Context, _, _ string, ev *rtapi.Event) error {
	r.mu.Lock()
	r.names = append(r.names, *ev.Name)
	r.mu.Unlock()
	return nil
}

func TestStageUpdateEventsAndSessionEnd(t *testing.T) {
	rec := &recorder{}
	srv, err := sfu.New(sfu.Config{Control: rec, Events: rec, SessionEndDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()
	tokens := tokenTable{"tok-a": {ParticipantID: "pa", StageARN: "arn:stage/s1", StageID: "s1", UserID: "ann", Publish: true, Subscribe: true}}
	h := signal.New(signal.Options{SFU: srv, Verifier: tokens})
	mux := http.NewServeMux()
	h.Register(mux)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = (&loadgen.Client{Base: hs.URL, Token: "nope"}).Publish(ctx, vp8Track(t))
	var he *loadgen.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("unknown token: %v", err)
	}
	// The compositor's view: the list of publishers, before and after.
	pubs := srv.WatchPublishers(ctx, "arn:stage/s1")
	nextList := func() []sfu.ParticipantInfo {
		t.Helper()
		select {
		case l, ok := <-pubs:
			if !ok {
				t.Fatal("publisher list closed")
			}
			return l
		case <-ctx.Done():
			t.Fatal("no publisher list")
		}
		return nil
	}
	if l := nextList(); len(l) != 0 {
		t.Fatalf("publishers before anyone joined: %+v", l)
	}
	video := vp8Track(t)
	pub, err := (&loadgen.Client{Base: hs.URL, Token: "tok-a"}).Publish(ctx, video)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub.Location, hs.URL+"/whip/s1/pa/") {
		t.Fatalf("Location %q is not an absolute resource URL under %s", pub.Location, hs.URL)
	}
	for _, c := range []struct {
		ctype, body string
		status      int
	}{
		{"application/trickle-ice-sdpfrag", "a=mid:0\r\na=end-of-candidates\r\n", http.StatusNoContent},
		{"application/sdp", "v=0", http.StatusUnsupportedMediaType},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, pub.Location, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer tok-a")
		req.Header.Set("Content-Type", c.ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("PATCH %s: %d, want %d", c.ctype, resp.StatusCode, c.status)
		}
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	var feedWG sync.WaitGroup
	feedWG.Go(func() { feedSynthetic(feedCtx, video) })
	wait := func(what string, ok func() bool) {
		t.Helper()
		for {
			rec.mu.Lock()
			done := ok()
			rec.mu.Unlock()
			if done {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s: events %v, names %v", what, rec.events, rec.names)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("Participant Published", func() bool { return len(rec.events) >= 1 })
	if l := nextList(); len(l) != 1 || l[0].ParticipantID != "pa" || l[0].UserID != "ann" || len(l[0].Tracks) != 1 || l[0].Joined == 0 {
		t.Fatalf("publishers while publishing: %+v", l)
	}
	stopFeed()
	feedWG.Wait()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wait("Participant Unpublished and the session end", func() bool { return len(rec.events) >= 2 && len(rec.ended) == 1 })
	if l := nextList(); len(l) != 0 {
		t.Fatalf("publishers after leaving: %+v", l)
	}
	for i, want := range []string{"Participant Published", "Participant Unpublished"} {
		ev := rec.events[i]
		if ev["event_name"] != want || ev["session_id"] != "st-1" || ev["participant_id"] != "pa" || ev["user_id"] != "ann" || ev["event_time"] == "" {
			t.Fatalf("event %d: %v", i, ev)
		}
	}
	want := []string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}
	if len(rec.names) != len(want) {
		t.Fatalf("participant events %v, want %v", rec.names, want)
	}
	for i := range want {
		if rec.names[i] != want[i] {
			t.Fatalf("participant events %v, want %v", rec.names, want)
		}
	}
	if rec.ended[0] != "st-1" {
		t.Fatalf("ended %v", rec.ended)
	}
}
