package events

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/store"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

const testSecret = "s3cret-for-tests"

// openStore opens (or reopens) the sqlite store at dir.
func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// running is a Bus with Run going in a goroutine the test owns.
type running struct {
	*Bus
	stop func()
}

func startBus(t *testing.T, opts Options) *running {
	t.Helper()
	if opts.Retry.Base == 0 {
		opts.Retry = RetryPolicy{MaxAttempts: 5, Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	}
	b, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("new bus: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.Run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	var once sync.Once
	r := &running{Bus: b, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(r.stop)
	return r
}

func webhookRule(name, url string, pattern string) Rule {
	if pattern == "" {
		pattern = `{"source":["aws.ivs"]}`
	}
	return Rule{Name: name, Enabled: true, EventPattern: json.RawMessage(pattern),
		Targets: []Target{{Type: TargetWebhook, Webhook: &WebhookTarget{URL: url, Secret: testSecret}}}}
}

// received is one request a receiver accepted.
type received struct {
	header http.Header
	body   []byte
	event  Event
}

// receiver is a webhook endpoint that checks every signature and answers
// with status(n) for the n-th request (1-based).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	status func(n int) int
	mu     sync.Mutex
	n      int
	got    []received // accepted (2xx) requests
	badSig int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{t: t, status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if err := Verify(testSecret, req.Header, body, time.Now(), time.Minute); err != nil {
		r.badSig++
		r.t.Errorf("request %d: %v", r.n, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	code := http.StatusNoContent
	if r.status != nil {
		code = r.status(r.n)
	}
	if code/100 == 2 {
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			r.t.Errorf("request %d: body is not an event: %v", r.n, err)
		}
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, event: e})
	}
	w.WriteHeader(code)
}

func (r *receiver) accepted() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// eventually polls cond every 10 ms until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openStoreB(b *testing.B) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
