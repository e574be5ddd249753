package events

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/transcode/cmdrun"
)

func TestExecTargetGetsEventOnStdin(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "event.json")
	rule := Rule{Name: "exec", Enabled: true, EventPattern: json.RawMessage(`{"detail-type":["IVS Stage Update"]}`),
		Targets: []Target{{Type: TargetExec, Exec: &ExecTarget{Command: []string{"sh", "-c", `cat > "$0"`, file}, Timeout: Duration(10 * time.Second)}}}}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Runner: cmdrun.Runner{}, ConfigRules: []Rule{rule}})
	sub := b.Subscribe("test", 10)
	stageUpdate(b.Bus, testStage, "st-9", "Participant Published")
	published := <-sub.C()
	eventually(t, "a delivered exec", func() bool {
		st, _ := b.Stats("exec")
		return st.Targets[0].Delivered == 1
	})
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(raw), "}\n") || strings.Count(string(raw), "\n") != 1 {
		t.Fatalf("stdin is not one JSON line: %q", raw)
	}
	var got Event
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("stdin was not the event JSON: %q", raw)
	}
	if got.ID != published.ID || got.DetailType != "IVS Stage Update" || !strings.Contains(string(got.Detail), `"st-9"`) {
		t.Fatalf("event on stdin %+v, published %+v", got, published)
	}
}

func TestExecTargetTimeoutKills(t *testing.T) {
	t.Parallel()
	rule := Rule{Name: "slow", Enabled: true, EventPattern: json.RawMessage(`{"source":["aws.ivs"]}`),
		Targets: []Target{{Type: TargetExec, Exec: &ExecTarget{Command: []string{"sleep", "10"}, Timeout: Duration(200 * time.Millisecond)}}}}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Runner: cmdrun.Runner{Grace: 100 * time.Millisecond},
		Retry: RetryPolicy{MaxAttempts: 1, Base: time.Millisecond}, ConfigRules: []Rule{rule}})
	start := time.Now()
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	var dls []DeadLetter
	eventually(t, "a dead letter", func() bool {
		dls, _ = b.DeadLetters(context.Background(), "slow")
		return len(dls) == 1
	})
	if !strings.Contains(dls[0].LastError, "killed after the 200ms timeout") {
		t.Fatalf("last error %q", dls[0].LastError)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("sleep 10 ran for %s: not killed at the timeout", took)
	}
}

func TestExecTargetWithoutRunnerDeadLetters(t *testing.T) {
	t.Parallel()
	rule := Rule{Name: "norunner", Enabled: true, EventPattern: json.RawMessage(`{"source":["aws.ivs"]}`),
		Targets: []Target{{Type: TargetExec, Exec: &ExecTarget{Command: []string{"true"}}}}}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), ConfigRules: []Rule{rule}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	eventually(t, "a dead letter", func() bool {
		dls, _ := b.DeadLetters(context.Background(), "norunner")
		return len(dls) == 1 && dls[0].Attempts == 1
	})
}

// recordingStarter is a neighbour fake for a unit test; the full-server
// test in internal/app uses stages.Service.
type recordingStarter struct {
	mu   sync.Mutex
	reqs []*rtapi.StartCompositionRequest
	err  error
	// errs are returned by the first calls, one each.
	errs []error
	// busy holds the tokens of calls in progress; like stages.Service, a
	// second call with a busy token is a conflict.
	busy      map[string]bool
	conflicts int
}

func (s *recordingStarter) StartComposition(_ context.Context, in *rtapi.StartCompositionRequest) (*rtapi.StartCompositionResponse, error) {
	s.mu.Lock()
	tok := *in.IdempotencyToken
	if s.busy[tok] {
		s.conflicts++
		s.mu.Unlock()
		return nil, model.Conflict("Idempotency token %s is in use by a request in progress", tok)
	}
	if s.busy == nil {
		s.busy = map[string]bool{}
	}
	s.busy[tok] = true
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // the store write of a real start
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, tok)
	s.reqs = append(s.reqs, in)
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	arn := "arn:aws:ivs:us-east-1:123456789012:composition/x"
	return &rtapi.StartCompositionResponse{Composition: &rtapi.Composition{Arn: &arn}}, nil
}

func (s *recordingStarter) requests() []*rtapi.StartCompositionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*rtapi.StartCompositionRequest(nil), s.reqs...)
}

const (
	testChannel = "arn:aws:ivs:us-east-1:123456789012:channel/chanABCD1234"
	testEncoder = "arn:aws:ivs:us-east-1:123456789012:encoder-configuration/encABCD1234"
)

func compositionRule(name string) Rule {
	return Rule{Name: name, Enabled: true,
		EventPattern: json.RawMessage(`{"source":["aws.ivs"],"detail-type":["IVS Stage Update"],"detail":{"event_name":["Participant Published"]}}`),
		Targets: []Target{{Type: TargetStartComposition, StartComposition: &StartCompositionTarget{
			DestinationChannelArn: testChannel, EncoderConfigurationArn: testEncoder,
			Layout: &rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{}},
		}}}}
}

func TestStartCompositionTargetRequest(t *testing.T) {
	t.Parallel()
	s := &recordingStarter{}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Starter: s, ConfigRules: []Rule{compositionRule("compose")}})
	stageUpdate(b.Bus, testStage, "st-A", "Participant Unpublished") // no match
	stageUpdate(b.Bus, testStage, "st-A", "Participant Published")
	stageUpdate(b.Bus, testStage, "st-A", "Participant Published")
	stageUpdate(b.Bus, testStage, "st-B", "Participant Published")
	eventually(t, "three calls", func() bool { return len(s.requests()) == 3 })
	tokens := map[string]int{}
	for _, r := range s.requests() {
		if *r.StageArn != testStage || len(r.Destinations) != 1 || *r.Destinations[0].Channel.ChannelArn != testChannel ||
			*r.Destinations[0].Channel.EncoderConfigurationArn != testEncoder || r.Layout == nil || r.Layout.Pip == nil {
			t.Fatalf("request %+v", r)
		}
		tokens[*r.IdempotencyToken]++
	}
	if tokens[IdempotencyToken("compose", "st-A")] != 2 || tokens[IdempotencyToken("compose", "st-B")] != 1 {
		t.Fatalf("tokens %v", tokens)
	}
	s.mu.Lock()
	conflicts := s.conflicts
	s.mu.Unlock()
	if conflicts != 0 {
		t.Fatalf("%d calls overlapped with the same token", conflicts)
	}
	if a, c := IdempotencyToken("compose", "st-A"), IdempotencyToken("other", "st-A"); a == c || len(a) > 64 {
		t.Fatalf("tokens %q %q", a, c)
	}
}

func TestStartCompositionTargetRejectedIsDeadLettered(t *testing.T) {
	t.Parallel()
	s := &recordingStarter{err: model.NotFound("channel")}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Starter: s, ConfigRules: []Rule{compositionRule("compose")}})
	stageUpdate(b.Bus, testStage, "st-A", "Participant Published")
	eventually(t, "a dead letter", func() bool {
		dls, _ := b.DeadLetters(context.Background(), "compose")
		return len(dls) == 1 && dls[0].Attempts == 1 && strings.Contains(dls[0].LastError, "channel")
	})
	// No stage in the resources and none configured: not retried either.
	b.Publish(context.Background(), "IVS Stage Update", []string{testChannel}, map[string]any{"event_name": "Participant Published"})
	eventually(t, "a second dead letter", func() bool {
		dls, _ := b.DeadLetters(context.Background(), "compose")
		return len(dls) == 2 && strings.Contains(dls[1].LastError, "no stage ARN")
	})
	if len(s.requests()) != 1 {
		t.Fatalf("%d calls", len(s.requests()))
	}
}

func TestStartCompositionTargetRetriesConflicts(t *testing.T) {
	t.Parallel()
	s := &recordingStarter{errs: []error{model.Conflict("Resource channel is used by composition x")}}
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Starter: s, ConfigRules: []Rule{compositionRule("compose")}})
	stageUpdate(b.Bus, testStage, "st-A", "Participant Published")
	eventually(t, "delivery after a retry", func() bool {
		st, _ := b.Stats("compose")
		return st.Targets[0].Delivered == 1 && st.Targets[0].Failed == 1
	})
	if n := len(s.requests()); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
}
