package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/store"
)

// Store kinds owned by this package. Keys live under "stagecast:event-rule/<name>";
// deliveries, dead letters and statistics are children of their rule, so
// deleting a rule deletes them.
const (
	KindRule       store.Kind = "event-rule"
	KindDelivery   store.Kind = "event-delivery"
	KindDeadLetter store.Kind = "event-dead-letter"
	KindRuleStats  store.Kind = "event-rule-stats"
)

// Defaults for Options.
const (
	// DefaultQueueSize is the in-memory queue between Publish and the bus
	// goroutine. Control-plane events are a few per second at most; 4096
	// absorbs a burst of a whole stage leaving while the store is slow.
	DefaultQueueSize = 4096
	// DefaultWorkers is how many deliveries run at once.
	DefaultWorkers = 4
	// DefaultSubscriberQueue is a subscriber's queue when Subscribe gets n <= 0.
	DefaultSubscriberQueue = 256
	// dropLogInterval aggregates "queue full" warnings.
	dropLogInterval = 10 * time.Second
)

// CompositionStarter starts a server-side composition; stages.Service
// satisfies it.
type CompositionStarter interface {
	StartComposition(ctx context.Context, in *rtapi.StartCompositionRequest) (*rtapi.StartCompositionResponse, error)
}

// CommandRunner runs a command with stdin until it exits or ctx ends (the
// process is then killed); it returns the combined output (possibly
// truncated) and an error for a non-zero exit. cmdrun.Runner implements it.
type CommandRunner interface {
	Run(ctx context.Context, argv []string, stdin []byte) (output []byte, err error)
}

// RetryPolicy is how failed deliveries are retried.
type RetryPolicy struct {
	// MaxAttempts counts the first try; after the last failed attempt the
	// delivery moves to the dead letters. Default 8.
	MaxAttempts int
	// Base is the delay after the first failure, doubled each time up to
	// Max; each delay is jittered to between half and all of it.
	// Defaults 1s and 5m (8 attempts span about 4 minutes).
	Base, Max time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Minute
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
	return p
}

// Options configure a Bus.
type Options struct {
	// Store persists rules, the outbox, dead letters and statistics. Required.
	Store store.Store
	// Account and Region fill every event's envelope.
	Account, Region string
	Log             *slog.Logger
	// QueueSize bounds the events waiting for the bus goroutine.
	QueueSize int
	// Workers bounds concurrent deliveries.
	Workers int
	Retry   RetryPolicy
	// HTTPClient sends webhooks; nil = a client that does not follow
	// redirects (each target's timeout applies per attempt).
	HTTPClient *http.Client
	// Runner runs exec targets; nil makes them fail (dead-lettered).
	Runner CommandRunner
	// Starter serves start-composition targets; nil makes them fail.
	Starter CompositionStarter
	// ConfigRules are the rules of the config file: they replace the
	// config-origin rules stored by the previous start.
	ConfigRules []Rule
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// Bus is the in-process event bus. See the package doc.
type Bus struct {
	st      store.Store
	log     *slog.Logger
	account string
	region  string
	retry   RetryPolicy
	workers int
	client  *http.Client
	runner  CommandRunner
	starter CompositionStarter
	now     func() time.Time

	queue    chan *Event
	dropped  atomic.Uint64 // events Publish dropped, total
	lastWarn atomic.Int64  // unix nanos of the last drop warning
	reported atomic.Uint64 // dropped count at the last warning

	rules   atomic.Pointer[ruleSet]
	rulesMu sync.Mutex // serializes rule writes (create/delete) with the snapshot swap

	subsMu sync.RWMutex
	subs   map[*Subscription]struct{}
	closed bool // set when Run has returned; guarded by subsMu

	outbox *outbox
	// inflight serializes start-composition deliveries per idempotency token.
	inflight keyLocks
	// statsMu serializes statistics updates and their writes.
	statsMu sync.Mutex
	stats   map[string]*RuleStats // rule name -> statistics
}

// New builds a bus: it syncs the config rules into the store and loads
// every rule and the statistics. Deliveries pending from a previous run are
// loaded by Run.
func New(ctx context.Context, opts Options) (*Bus, error) {
	if opts.Store == nil {
		return nil, errors.New("events: a store is required")
	}
	b := &Bus{
		st: opts.Store, log: opts.Log, account: opts.Account, region: opts.Region,
		retry: opts.Retry.withDefaults(), workers: opts.Workers, client: opts.HTTPClient,
		runner: opts.Runner, starter: opts.Starter, now: opts.Now,
		subs: map[*Subscription]struct{}{}, outbox: newOutbox(), stats: map[string]*RuleStats{},
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.workers <= 0 {
		b.workers = DefaultWorkers
	}
	if b.client == nil {
		// Redirects are not followed: a 301/302 would turn the signed POST
		// into an unsigned GET. A 3xx counts as a failed attempt.
		b.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	n := opts.QueueSize
	if n <= 0 {
		n = DefaultQueueSize
	}
	b.queue = make(chan *Event, n)
	b.rules.Store(&ruleSet{})
	if err := b.syncConfigRules(ctx, opts.ConfigRules); err != nil {
		return nil, err
	}
	if err := b.loadRules(ctx); err != nil {
		return nil, err
	}
	if err := b.loadStats(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Publish implements control.Publisher. It never blocks: when the queue is
// full the event is dropped and counted. detail is encoded before Publish
// returns, so the caller may reuse it.
func (b *Bus) Publish(_ context.Context, detailType string, resources []string, detail map[string]any) {
	raw, err := json.Marshal(detail)
	if err != nil {
		b.log.Error("event detail is not JSON", "detail_type", detailType, "err", err)
		return
	}
	if detail == nil {
		raw = []byte("{}")
	}
	if resources == nil {
		resources = []string{}
	}
	b.PublishEvent(&Event{
		Version: "0", ID: newEventID(), DetailType: detailType, Source: Source,
		Account: b.account, Time: formatTime(b.now()), Region: b.region,
		Resources: append([]string(nil), resources...), Detail: raw,
	})
}

// PublishEvent queues a complete event (its fields are used as they are).
// It never blocks; it reports false when the event was dropped.
func (b *Bus) PublishEvent(e *Event) bool {
	select {
	case b.queue <- e:
		return true
	default:
	}
	n := b.dropped.Add(1)
	now := time.Now().UnixNano()
	last := b.lastWarn.Load()
	if now-last >= int64(dropLogInterval) && b.lastWarn.CompareAndSwap(last, now) {
		prev := b.reported.Swap(n)
		b.log.Warn("event queue full: events dropped", "dropped", n-prev, "dropped_total", n, "queue_size", cap(b.queue))
	}
	return false
}

// Dropped is how many events Publish dropped because the queue was full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// Run drains the queue, persists deliveries and runs them until ctx ends.
// On return the events still queued have been persisted (best effort, with
// a short deadline), in-flight deliveries have finished or been abandoned
// (their outbox records stay and resume on the next Run) and every
// subscription is closed.
func (b *Bus) Run(ctx context.Context) error {
	if err := b.loadOutbox(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { b.dispatch(ctx) })
	defer func() {
		wg.Wait()
		b.closeSubscriptions()
	}()
	for {
		select {
		case e := <-b.queue:
			// Persisting is not abandoned half-way when ctx ends.
			b.handle(context.WithoutCancel(ctx), e)
		case <-ctx.Done():
			b.drain(context.WithoutCancel(ctx))
			return nil
		}
	}
}

// Close persists the events published since Run returned (subsystems
// that stop after the bus may still publish). Call it once every
// publisher has stopped and before the store closes; it does not deliver:
// the next Run does.
func (b *Bus) Close() {
	b.drain(context.Background())
}

// drain persists what is still queued when the bus stops, so a clean
// shutdown loses nothing; it does not deliver.
func (b *Bus) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		select {
		case e := <-b.queue:
			b.handle(ctx, e)
		default:
			return
		}
	}
}

// handle matches one event against the rules, persists a delivery per
// matching target, hands them to the dispatcher and fans the event out to
// subscribers.
func (b *Bus) handle(ctx context.Context, e *Event) {
	raw, err := json.Marshal(e)
	if err != nil {
		b.log.Error("encode event", "detail_type", e.DetailType, "err", err)
		return
	}
	var doc any
	_ = json.Unmarshal(raw, &doc)
	var ds []*delivery
	var ops []store.Op
	for _, r := range b.rules.Load().list {
		if !r.rule.Enabled || !r.pat.Match(doc) {
			continue
		}
		for i := range r.rule.Targets {
			d := &delivery{doc: deliveryDoc{
				Rule: r.rule.Name, Target: i, EventID: e.ID, Event: raw,
				FirstAt: b.now().UTC(), NextAt: b.now().UTC(),
			}}
			d.key = fmt.Sprintf("%s/delivery/%s/%d", ruleKey(r.rule.Name), e.ID, i)
			rec, err := d.record()
			if err != nil {
				b.log.Error("encode delivery", "rule", r.rule.Name, "err", err)
				continue
			}
			ops = append(ops, store.Op{Type: store.OpPut, Record: rec})
			ds = append(ds, d)
		}
	}
	if len(ops) > 0 {
		if err := b.st.Apply(ctx, ops...); err != nil {
			// Delivered from memory anyway; only a crash before delivery loses them.
			b.log.Error("persist event deliveries", "event_id", e.ID, "deliveries", len(ops), "err", err)
		}
		b.outbox.push(ds...)
	}
	b.fanout(e, doc)
}
