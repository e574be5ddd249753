package events

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/store"
)

// deliveryDoc is the stored form of one pending delivery: one event to one
// target of one rule.
type deliveryDoc struct {
	Rule      string          `json:"rule"`
	Target    int             `json:"target"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
	Attempts  int             `json:"attempts"`
	FirstAt   time.Time       `json:"first_at"`
	NextAt    time.Time       `json:"next_at"`
	LastError string          `json:"last_error,omitempty"`
}

type delivery struct {
	key string
	doc deliveryDoc
}

func (d *delivery) record() (*store.Record, error) {
	data, err := json.Marshal(d.doc)
	if err != nil {
		return nil, err
	}
	return &store.Record{Key: d.key, Kind: KindDelivery, Parent: ruleKey(d.doc.Rule), Data: data}, nil
}

// DeadLetter is a delivery that failed its last attempt.
type DeadLetter struct {
	Rule       string          `json:"rule"`
	Target     int             `json:"target"`
	TargetType string          `json:"target_type"`
	EventID    string          `json:"event_id"`
	Event      json.RawMessage `json:"event"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"last_error"`
	FirstAt    time.Time       `json:"first_at"`
	FailedAt   time.Time       `json:"failed_at"`
}

// TargetStats counts one target's deliveries.
type TargetStats struct {
	Delivered    int64     `json:"delivered"`
	Failed       int64     `json:"failed_attempts"`
	DeadLettered int64     `json:"dead_lettered"`
	LastError    string    `json:"last_error,omitempty"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastFailure  time.Time `json:"last_failure,omitzero"`
}

// RuleStats are a rule's per-target statistics and its pending count.
type RuleStats struct {
	Targets []TargetStats `json:"targets"`
	// Pending is the number of deliveries waiting (filled by Stats).
	Pending int `json:"pending"`
}

// outbox orders pending deliveries by due time and counts the ones being
// attempted, so that pending = waiting + running.
type outbox struct {
	mu      sync.Mutex
	h       dueHeap
	running map[string]int // rule -> deliveries popped and not finished
	wake    chan struct{}
}

func newOutbox() *outbox {
	return &outbox{wake: make(chan struct{}, 1), running: map[string]int{}}
}

type dueHeap []*delivery

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].doc.NextAt.Before(h[j].doc.NextAt) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(*delivery)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (o *outbox) push(ds ...*delivery) {
	o.mu.Lock()
	for _, d := range ds {
		heap.Push(&o.h, d)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// next pops a delivery due at now, or reports how long until one is due
// (-1: none pending).
func (o *outbox) next(now time.Time) (*delivery, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.h) == 0 {
		return nil, -1
	}
	if wait := o.h[0].doc.NextAt.Sub(now); wait > 0 {
		return nil, wait
	}
	d := heap.Pop(&o.h).(*delivery)
	o.running[d.doc.Rule]++
	return d, 0
}

// finish ends the attempt of a delivery next returned; requeue puts it
// back for its next attempt.
func (o *outbox) finish(d *delivery, requeue bool) {
	o.mu.Lock()
	if o.running[d.doc.Rule]--; o.running[d.doc.Rule] <= 0 {
		delete(o.running, d.doc.Rule)
	}
	if requeue {
		heap.Push(&o.h, d)
	}
	o.mu.Unlock()
	if requeue {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

func (o *outbox) pending() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]int{}
	for _, d := range o.h {
		m[d.doc.Rule]++
	}
	for rule, n := range o.running {
		m[rule] += n
	}
	return m
}

// loadOutbox queues the deliveries a previous run left pending.
func (b *Bus) loadOutbox(ctx context.Context) error {
	page, err := b.st.List(ctx, store.Query{Kind: KindDelivery})
	if err != nil {
		return fmt.Errorf("load event outbox: %w", err)
	}
	ds := make([]*delivery, 0, len(page.Records))
	for _, rec := range page.Records {
		d := &delivery{key: rec.Key}
		if err := json.Unmarshal(rec.Data, &d.doc); err != nil {
			b.log.Error("corrupt outbox record: dropped", "key", rec.Key, "err", err)
			_ = store.Delete(ctx, b.st, rec.Key)
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) > 0 {
		b.log.Info("resuming pending event deliveries", "deliveries", len(ds))
		b.outbox.push(ds...)
	}
	return nil
}

// dispatch starts due deliveries, at most b.workers at once, until ctx
// ends; it returns after the deliveries it started.
func (b *Bus) dispatch(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, b.workers)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d, wait := b.outbox.next(b.now())
		if d == nil {
			if wait < 0 {
				wait = time.Hour
			}
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-b.outbox.wake:
			case <-timer.C:
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			b.outbox.finish(d, false) // stays in the store for the next run
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			b.attempt(ctx, d)
		})
	}
}

// backoff is the delay after the n-th failed attempt (n >= 1): Base*2^(n-1)
// capped at Max, jittered to [d/2, d].
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// attempt runs one delivery and records its outcome.
func (b *Bus) attempt(ctx context.Context, d *delivery) {
	requeue := false
	defer func() { b.outbox.finish(d, requeue) }()
	cr := b.rules.Load().get(d.doc.Rule)
	if cr == nil || d.doc.Target >= len(cr.rule.Targets) {
		// The rule (and with it the outbox record) was deleted or changed.
		if err := store.Delete(ctx, b.st, d.key); err != nil && !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("drop delivery of a deleted rule", "rule", d.doc.Rule, "err", err)
		}
		return
	}
	t := cr.rule.Targets[d.doc.Target]
	err := b.deliver(ctx, t, d)
	if ctx.Err() != nil {
		return // stopping: the record stays and resumes on the next run
	}
	now := b.now().UTC()
	d.doc.Attempts++
	log := b.log.With("rule", d.doc.Rule, "target", d.doc.Target, "target_type", t.Type, "event_id", d.doc.EventID, "attempt", d.doc.Attempts)
	b.statsMu.Lock()
	defer b.statsMu.Unlock()
	st := b.statsFor(d.doc.Rule, len(cr.rule.Targets))
	ts := &st.Targets[d.doc.Target]
	var ops []store.Op
	switch {
	case err == nil:
		ts.Delivered++
		ts.LastSuccess = now
		ops = append(ops, store.Op{Type: store.OpDelete, Key: d.key})
		log.Debug("event delivered")
	case d.doc.Attempts >= b.retry.MaxAttempts || errors.As(err, new(permanentError)):
		ts.Failed++
		ts.DeadLettered++
		ts.LastError, ts.LastFailure = err.Error(), now
		dl := DeadLetter{Rule: d.doc.Rule, Target: d.doc.Target, TargetType: t.Type, EventID: d.doc.EventID,
			Event: d.doc.Event, Attempts: d.doc.Attempts, LastError: err.Error(), FirstAt: d.doc.FirstAt, FailedAt: now}
		data, _ := json.Marshal(dl)
		ops = append(ops, store.Op{Type: store.OpDelete, Key: d.key}, store.Op{Type: store.OpPut, Record: &store.Record{
			Key:  fmt.Sprintf("%s/dead-letter/%s/%d", ruleKey(d.doc.Rule), d.doc.EventID, d.doc.Target),
			Kind: KindDeadLetter, Parent: ruleKey(d.doc.Rule), Data: data,
		}})
		log.Warn("event delivery failed for good: dead-lettered", "err", err)
	default:
		ts.Failed++
		ts.LastError, ts.LastFailure = err.Error(), now
		d.doc.LastError = err.Error()
		d.doc.NextAt = now.Add(b.retry.backoff(d.doc.Attempts))
		rec, rerr := d.record()
		if rerr == nil {
			ops = append(ops, store.Op{Type: store.OpPut, Record: rec})
		}
		log.Info("event delivery failed: will retry", "err", err, "retry_at", d.doc.NextAt)
		requeue = true
	}
	if rec, err := b.statsRecord(d.doc.Rule, st); err == nil {
		ops = append(ops, store.Op{Type: store.OpPut, Record: rec})
	}
	if b.rules.Load().get(d.doc.Rule) == nil {
		return // deleted meanwhile, with its outbox: nothing to record
	}
	err = b.st.Apply(context.WithoutCancel(ctx), ops...)
	if errors.Is(err, store.ErrNotFound) {
		// The outbox record was never written (the store failed when the
		// event arrived): record the outcome without deleting it.
		kept := ops[:0]
		for _, op := range ops {
			if op.Type != store.OpDelete {
				kept = append(kept, op)
			}
		}
		err = b.st.Apply(context.WithoutCancel(ctx), kept...)
	}
	if err != nil {
		b.log.Error("record event delivery outcome", "rule", d.doc.Rule, "event_id", d.doc.EventID, "err", err)
	}
}

func (b *Bus) statsFor(rule string, targets int) *RuleStats {
	st := b.stats[rule]
	if st == nil {
		st = &RuleStats{}
		b.stats[rule] = st
	}
	for len(st.Targets) < targets {
		st.Targets = append(st.Targets, TargetStats{})
	}
	return st
}

func (b *Bus) statsRecord(rule string, st *RuleStats) (*store.Record, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return &store.Record{Key: ruleKey(rule) + "/stats", Kind: KindRuleStats, Parent: ruleKey(rule), Lookup: rule, Data: data}, nil
}

func (b *Bus) loadStats(ctx context.Context) error {
	page, err := b.st.List(ctx, store.Query{Kind: KindRuleStats})
	if err != nil {
		return fmt.Errorf("load rule statistics: %w", err)
	}
	b.statsMu.Lock()
	defer b.statsMu.Unlock()
	for _, rec := range page.Records {
		var st RuleStats
		if json.Unmarshal(rec.Data, &st) == nil {
			b.stats[rec.Lookup] = &st
		}
	}
	return nil
}

// Stats returns a rule's statistics (zero counts for a rule that has
// delivered nothing yet).
func (b *Bus) Stats(name string) (RuleStats, error) {
	cr := b.rules.Load().get(name)
	if cr == nil {
		return RuleStats{}, fmt.Errorf("%w: %s", ErrRuleNotFound, name)
	}
	b.statsMu.Lock()
	st := b.statsFor(name, len(cr.rule.Targets))
	out := RuleStats{Targets: append([]TargetStats(nil), st.Targets[:len(cr.rule.Targets)]...)}
	b.statsMu.Unlock()
	out.Pending = b.outbox.pending()[name]
	return out, nil
}

// DeadLetters lists a rule's dead letters ("" = every rule's), oldest first.
func (b *Bus) DeadLetters(ctx context.Context, rule string) ([]DeadLetter, error) {
	q := store.Query{Kind: KindDeadLetter}
	if rule != "" {
		if b.rules.Load().get(rule) == nil {
			return nil, fmt.Errorf("%w: %s", ErrRuleNotFound, rule)
		}
		q.Parent = ruleKey(rule)
	}
	page, err := b.st.List(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(page.Records))
	for _, rec := range page.Records {
		var dl DeadLetter
		if err := json.Unmarshal(rec.Data, &dl); err != nil {
			return nil, fmt.Errorf("decode dead letter %s: %w", rec.Key, err)
		}
		out = append(out, dl)
	}
	return out, nil
}
