package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/events/pattern"
	"github.com/stagecast/stagecast/internal/store"
)

func stageUpdate(b *Bus, stage, session, name string) {
	b.Publish(context.Background(), "IVS Stage Update", []string{stage}, map[string]any{
		"session_id": session, "event_name": name, "participant_id": "p1", "user_id": "",
		"event_time": time.Now().UTC().Format(TimeFormat),
	})
}

const testStage = "arn:aws:ivs:us-east-1:123456789012:stage/abcdABCD1234"

func TestWebhookDeliversSignedEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Account: "123456789012", Region: "us-east-1",
		ConfigRules: []Rule{webhookRule("all-stage-updates", recv.srv.URL, `{"detail-type":["IVS Stage Update"]}`)}})
	for range 5 {
		stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	}
	b.Publish(context.Background(), "IVS Stream State Change", []string{"arn:aws:ivs:us-east-1:123456789012:channel/x"}, map[string]any{"event_name": "Stream Start"})
	eventually(t, "5 deliveries", func() bool { return len(recv.accepted()) == 5 })
	ids := map[string]bool{}
	for _, r := range recv.accepted() {
		e := r.event
		if e.Version != "0" || e.Source != "aws.ivs" || e.Account != "123456789012" || e.Region != "us-east-1" ||
			e.DetailType != "IVS Stage Update" || len(e.Resources) != 1 || e.Resources[0] != testStage {
			t.Fatalf("envelope %+v", e)
		}
		if _, err := time.Parse(TimeFormat, e.Time); err != nil {
			t.Fatalf("time %q: %v", e.Time, err)
		}
		if r.header.Get(HeaderEventID) != e.ID || r.header.Get(HeaderRule) != "all-stage-updates" || r.header.Get(HeaderAttempt) != "1" {
			t.Fatalf("headers %v", r.header)
		}
		if !strings.HasPrefix(r.header.Get(HeaderSignature), "sha256=") {
			t.Fatalf("signature header %q", r.header.Get(HeaderSignature))
		}
		var d map[string]any
		if err := json.Unmarshal(e.Detail, &d); err != nil || d["event_name"] != "Participant Published" {
			t.Fatalf("detail %s", e.Detail)
		}
		ids[e.ID] = true
	}
	if len(ids) != 5 {
		t.Fatalf("%d distinct ids, want 5", len(ids))
	}
	eventually(t, "stats", func() bool {
		st, err := b.Stats("all-stage-updates")
		return err == nil && st.Targets[0].Delivered == 5 && st.Pending == 0
	})
	if recv.requests() != 5 {
		t.Fatalf("%d requests: the stream event must not match", recv.requests())
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"1"}`)
	now := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1700000000")
	h.Set(HeaderSignature, Sign(testSecret, "1700000000", body))
	if err := Verify(testSecret, h, body, now, time.Minute); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	if err := Verify(testSecret, h, []byte(`{"id":"2"}`), now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	if err := Verify("other", h, body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := Verify(testSecret, h, body, now.Add(2*time.Minute), time.Minute); !errors.Is(err, ErrStaleTimestamp) {
		t.Fatalf("stale: %v", err)
	}
	h.Set(HeaderTimestamp, "1700000001") // timestamp is inside the MAC
	if err := Verify(testSecret, h, body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed timestamp: %v", err)
	}
	// The documented scheme, computed independently.
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("1700000000.{}"))
	if got, want := Sign("k", "1700000000", []byte("{}")), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestWebhookRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	const failures = 3
	recv := newReceiver(t, func(n int) int {
		if n <= failures {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	b := startBus(t, Options{Store: openStore(t, t.TempDir()),
		ConfigRules: []Rule{webhookRule("flaky", recv.srv.URL, "")}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	eventually(t, "the delivery after retries", func() bool { return len(recv.accepted()) == 1 })
	got := recv.accepted()[0]
	if got.header.Get(HeaderAttempt) != "4" {
		t.Fatalf("attempt header %q, want 4", got.header.Get(HeaderAttempt))
	}
	eventually(t, "stats", func() bool {
		st, _ := b.Stats("flaky")
		return st.Targets[0].Delivered == 1 && st.Targets[0].Failed == failures && st.Pending == 0
	})
	st, _ := b.Stats("flaky")
	if !strings.Contains(st.Targets[0].LastError, "503") {
		t.Fatalf("last error %q", st.Targets[0].LastError)
	}
	if dl, _ := b.DeadLetters(context.Background(), "flaky"); len(dl) != 0 {
		t.Fatalf("dead letters %v", dl)
	}
}

func TestWebhookDeadLettersAfterLastRetry(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	st := openStore(t, t.TempDir())
	b := startBus(t, Options{Store: st, Retry: RetryPolicy{MaxAttempts: 3, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		ConfigRules: []Rule{webhookRule("broken", recv.srv.URL, "")}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	var dls []DeadLetter
	eventually(t, "a dead letter", func() bool {
		dls, _ = b.DeadLetters(context.Background(), "broken")
		return len(dls) == 1
	})
	dl := dls[0]
	if dl.Attempts != 3 || dl.TargetType != TargetWebhook || !strings.Contains(dl.LastError, "500") {
		t.Fatalf("dead letter %+v", dl)
	}
	var e Event
	if err := json.Unmarshal(dl.Event, &e); err != nil || e.ID != dl.EventID {
		t.Fatalf("dead letter event %s: %v", dl.Event, err)
	}
	if n := recv.requests(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	stats, _ := b.Stats("broken")
	if stats.Targets[0].DeadLettered != 1 || stats.Targets[0].Failed != 3 || stats.Targets[0].Delivered != 0 || stats.Pending != 0 {
		t.Fatalf("stats %+v", stats)
	}
	if n, _ := st.Count(context.Background(), KindDelivery, ""); n != 0 {
		t.Fatalf("%d outbox records left", n)
	}
	if all, _ := b.DeadLetters(context.Background(), ""); len(all) != 1 {
		t.Fatalf("all dead letters: %d", len(all))
	}
}

func TestWebhookClientErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(int) int { return http.StatusGone })
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), ConfigRules: []Rule{webhookRule("gone", recv.srv.URL, "")}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	eventually(t, "a dead letter", func() bool {
		dls, _ := b.DeadLetters(context.Background(), "gone")
		return len(dls) == 1 && dls[0].Attempts == 1
	})
	if n := recv.requests(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// TestOutboxSurvivesRestart stops the bus while the receiver is down with
// deliveries pending, reopens the store in a new bus and checks the
// receiver, once up, gets every event exactly once.
func TestOutboxSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the receiver is down: connections are refused
	url := "http://" + addr + "/hook"
	retry := RetryPolicy{MaxAttempts: 1000, Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}

	st := openStore(t, dir)
	b := startBus(t, Options{Store: st, Retry: retry, ConfigRules: []Rule{webhookRule("durable", url, "")}})
	const n = 10
	for range n {
		stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	}
	eventually(t, "failed attempts for every event", func() bool {
		s, _ := b.Stats("durable")
		return s.Pending == n && s.Targets[0].Failed >= 2*n
	})
	b.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if c := openStore(t, dir); c != nil {
		if k, _ := c.Count(context.Background(), KindDelivery, ""); k != n {
			t.Fatalf("%d outbox records after stop, want %d", k, n)
		}
		c.Close()
	}

	recv := &receiver{t: t}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	recv.srv = httptest.NewUnstartedServer(http.HandlerFunc(recv.serve))
	recv.srv.Listener.Close()
	recv.srv.Listener = ln
	recv.srv.Start()
	t.Cleanup(recv.srv.Close)

	st2 := openStore(t, dir)
	t.Cleanup(func() { st2.Close() })
	b2 := startBus(t, Options{Store: st2, Retry: retry, ConfigRules: []Rule{webhookRule("durable", url, "")}})
	eventually(t, "every pending event", func() bool { return len(recv.accepted()) >= n })
	eventually(t, "an empty outbox", func() bool {
		s, _ := b2.Stats("durable")
		return s.Pending == 0 && s.Targets[0].Delivered == n
	})
	seen := map[string]int{}
	for _, r := range recv.accepted() {
		seen[r.event.ID]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("event %s delivered %d times", id, c)
		}
	}
	if k, _ := st2.Count(context.Background(), KindDelivery, ""); k != 0 {
		t.Fatalf("%d outbox records left", k)
	}
}

func TestCleanStopPersistsQueuedEvents(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	b, err := New(context.Background(), Options{Store: st, ConfigRules: []Rule{webhookRule("r", "http://127.0.0.1:1/x", "")}})
	if err != nil {
		t.Fatal(err)
	}
	stageUpdate(b, testStage, "st-1", "Participant Published")
	stageUpdate(b, testStage, "st-1", "Participant Published")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run sees a cancelled context: it only persists the queue
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if k, _ := st.Count(context.Background(), KindDelivery, ""); k != 2 {
		t.Fatalf("%d outbox records, want 2", k)
	}
}

func TestPublishNeverBlocks(t *testing.T) {
	t.Parallel()
	b, err := New(context.Background(), Options{Store: openStore(t, t.TempDir()), QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 { // nobody drains the queue
		stageUpdate(b, testStage, "st-1", "Participant Published")
	}
	if d := b.Dropped(); d != 8 {
		t.Fatalf("dropped %d, want 8", d)
	}
}

func TestSubscriberDropsWhenSlow(t *testing.T) {
	t.Parallel()
	b := startBus(t, Options{Store: openStore(t, t.TempDir())})
	slow := b.Subscribe("slow", 2)
	fast := b.Subscribe("fast", 100)
	for i := range 5 {
		b.Publish(context.Background(), "IVS Stage Update", []string{testStage}, map[string]any{"n": i})
	}
	var got []Event
	for len(got) < 5 {
		select {
		case e := <-fast.C():
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatal("fast subscriber got too few events")
		}
	}
	for i, e := range got { // publication order
		var d struct{ N int }
		_ = json.Unmarshal(e.Detail, &d)
		if d.N != i {
			t.Fatalf("event %d has n=%d", i, d.N)
		}
	}
	if slow.Dropped() != 3 {
		t.Fatalf("slow dropped %d, want 3", slow.Dropped())
	}
	if len(slow.C()) != 2 {
		t.Fatalf("slow has %d queued", len(slow.C()))
	}
	slow.Close()
	slow.Close()
	b.stop()
	if _, ok := <-fast.C(); ok {
		t.Fatal("stopping the bus must close subscriptions")
	}
	late := b.Subscribe("late", 1)
	if _, ok := <-late.C(); ok {
		t.Fatal("subscription after stop must be closed")
	}
}

func TestRulesAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	cfgRule := webhookRule("from-config", "http://127.0.0.1:1/x", "")
	b, err := New(context.Background(), Options{Store: st, ConfigRules: []Rule{cfgRule}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.CreateRule(ctx, webhookRule("from-config", "http://127.0.0.1:1/y", "")); !errors.Is(err, ErrRuleExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	bad := webhookRule("bad name!", "ftp://x", `{"source":"aws.ivs"}`)
	bad.Targets[0].Webhook.Secret = ""
	_, err = b.CreateRule(ctx, bad)
	if !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("invalid rule: %v", err)
	}
	for _, want := range []string{"name \"bad name!\"", "event_pattern", "source: must be an array", "webhook url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	r, err := b.CreateRule(ctx, webhookRule("api-rule", "http://127.0.0.1:1/z", ""))
	if err != nil || r.Origin != OriginAPI {
		t.Fatalf("create: %+v %v", r, err)
	}
	if names := ruleNames(b.Rules()); names != "api-rule,from-config" {
		t.Fatalf("rules %s", names)
	}
	if red := r.Redacted(); red.Targets[0].Webhook.Secret == testSecret || r.Targets[0].Webhook.Secret != testSecret {
		t.Fatal("Redacted must hide the secret in the copy only")
	}
	if err := b.DeleteRule(ctx, "from-config"); !errors.Is(err, ErrConfigRule) {
		t.Fatalf("delete config rule: %v", err)
	}
	if err := b.DeleteRule(ctx, "nope"); !errors.Is(err, ErrRuleNotFound) {
		t.Fatalf("delete missing: %v", err)
	}

	// Restart without the config rule: it disappears, the API rule stays.
	b2, err := New(ctx, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if names := ruleNames(b2.Rules()); names != "api-rule" {
		t.Fatalf("rules after config change: %s", names)
	}
	// A config rule cannot take over an API rule's name.
	if _, err := New(ctx, Options{Store: st, ConfigRules: []Rule{webhookRule("api-rule", "http://127.0.0.1:1/x", "")}}); err == nil {
		t.Fatal("config rule shadowing an API rule must fail")
	}
	if err := b2.DeleteRule(ctx, "api-rule"); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Count(ctx, KindRule, ""); n != 0 {
		t.Fatalf("%d rules left", n)
	}
	_ = store.ErrNotFound
}

func ruleNames(rs []Rule) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

func TestDisabledRuleDoesNotMatch(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	off := webhookRule("off", recv.srv.URL, "")
	off.Enabled = false
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), ConfigRules: []Rule{off, webhookRule("on", recv.srv.URL, "")}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	eventually(t, "delivery", func() bool { return len(recv.accepted()) == 1 })
	if h := recv.accepted()[0].header.Get(HeaderRule); h != "on" {
		t.Fatalf("delivered by rule %q", h)
	}
}

// BenchmarkPublish measures the caller's cost of Publish (encode detail,
// stamp the envelope, offer to the queue) with the bus draining and one
// matching rule whose webhook answers 204.
func BenchmarkPublish(b *testing.B) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer recv.Close()
	st := openStoreB(b)
	bus, err := New(context.Background(), Options{Store: st, QueueSize: 1 << 16,
		ConfigRules: []Rule{webhookRule("bench", recv.URL, `{"detail-type":["Never"]}`)}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bus.Run(ctx) }()
	detail := map[string]any{"session_id": "st-1", "event_name": "Participant Published", "participant_id": "p1"}
	for b.Loop() {
		bus.Publish(ctx, "IVS Stage Update", []string{testStage}, detail)
	}
	cancel()
	<-done
	b.ReportMetric(float64(bus.Dropped()), "dropped")
}

// BenchmarkPersistedDelivery measures one event's whole path, one at a
// time: Publish, match, outbox write, webhook POST, outbox delete and
// statistics write (sqlite on disk).
func BenchmarkPersistedDelivery(b *testing.B) {
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	bus, err := New(context.Background(), Options{Store: openStoreB(b),
		ConfigRules: []Rule{webhookRule("bench", recv.URL, "")}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bus.Run(ctx) }()
	n := int64(0)
	for b.Loop() {
		stageUpdate(bus, testStage, "st-1", "Participant Published")
		n++
		for got.Load() < n {
			time.Sleep(50 * time.Microsecond)
		}
	}
	cancel()
	<-done
}

func TestCloseAfterRunPersistsLatePublishes(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	b := startBus(t, Options{Store: st, ConfigRules: []Rule{webhookRule("r", "http://127.0.0.1:1/x", "")}})
	b.stop()
	// A subsystem that stops after the bus still publishes.
	stageUpdate(b.Bus, testStage, "st-1", "Participant Unpublished")
	stageUpdate(b.Bus, testStage, "st-1", "Participant Unpublished")
	b.Close()
	if k, _ := st.Count(context.Background(), KindDelivery, ""); k != 2 {
		t.Fatalf("%d outbox records, want 2", k)
	}
}

func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var followed atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := startBus(t, Options{Store: openStore(t, t.TempDir()), Retry: RetryPolicy{MaxAttempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond},
		ConfigRules: []Rule{webhookRule("redirected", srv.URL+"/hook", "")}})
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	eventually(t, "a dead letter", func() bool {
		dls, _ := b.DeadLetters(context.Background(), "redirected")
		return len(dls) == 1 && strings.Contains(dls[0].LastError, "status 302")
	})
	if followed.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestSubscribeMatching(t *testing.T) {
	t.Parallel()
	b := startBus(t, Options{Store: openStore(t, t.TempDir())})
	sub := b.SubscribeMatching("published-only", 10, pattern.MustCompile(`{"detail":{"event_name":["Participant Published"]}}`))
	defer sub.Close()
	stageUpdate(b.Bus, testStage, "st-1", "Participant Unpublished")
	stageUpdate(b.Bus, testStage, "st-1", "Participant Published")
	select {
	case e := <-sub.C():
		if !strings.Contains(string(e.Detail), `"Participant Published"`) {
			t.Fatalf("got %s", e.Detail)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	if sub.Dropped() != 0 || len(sub.C()) != 0 {
		t.Fatalf("the unmatched event was queued or counted: dropped %d, queued %d", sub.Dropped(), len(sub.C()))
	}
}
