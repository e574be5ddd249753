// Package events is the in-process event bus: EventBridge-shaped events,
// rules with EventBridge event patterns, and their delivery to targets
// (signed webhooks, exec commands, and the built-in start-composition).
//
// # Publishing
//
// Bus implements control.Publisher. Publish encodes the detail, stamps the
// envelope (version "0", a UUID id, source "aws.ivs", account, region,
// time) and offers the event to a bounded in-memory queue. It never blocks
// and never touches the disk: when the queue is full the event is dropped,
// counted (Dropped) and a warning is logged at most every 10 s.
//
// # The bus goroutine
//
// Run owns one goroutine that drains the queue in order. For each event it
// matches every enabled rule, writes one outbox record per (rule, target)
// to the store in a single transaction, hands them to the dispatcher, then
// offers the event to every Subscription (bounded queue each, optionally
// filtered by a pattern; a slow subscriber loses events, counted, never
// slows the bus).
//
// What a crash loses: only the events still in the in-memory queue (not yet
// persisted). A clean stop (ctx cancelled) first persists what is queued,
// and Close persists what subsystems published after Run returned (the app
// calls it once every runner has stopped, before the store closes). Once
// persisted, a delivery survives restarts: Run reloads the outbox.
//
// # Delivery
//
// The dispatcher (owned by Run) starts due deliveries with at most
// Options.Workers running. A failed attempt is retried after
// RetryPolicy.Base doubled per attempt up to RetryPolicy.Max, jittered to
// between half and all of it; after MaxAttempts, or at once for errors that
// cannot get better (a webhook's 4xx other than 408/429, a composition
// request the service rejects as invalid or naming a missing resource), the
// delivery becomes a dead letter (kept in the store, listed by
// DeadLetters). Delivery is at-least-once: a crash between a receiver's
// 2xx and the outbox update repeats that delivery, so receivers dedupe on
// the event id (also sent as X-Stagecast-Event-Id). Deliveries are not
// ordered with respect to each other.
//
// Webhooks are signed (see Sign for the exact scheme). Exec targets run
// through a CommandRunner (internal/transcode/cmdrun) with the event JSON
// on stdin and a timeout. Start-composition targets call a
// CompositionStarter with an idempotency token derived from the rule name
// and the event's stage session id, so one session starts one composition
// however many participants publish.
//
// # Rules
//
// Rules live in the store. Config-file rules (Options.ConfigRules) are
// re-synced on every New: added, updated, and deleted when removed from the
// file (with their outbox and dead letters). API rules are created and
// deleted with CreateRule and DeleteRule. The matcher reads an immutable
// snapshot swapped atomically; rule writes are serialized by a mutex.
// Statistics (per target: delivered, failed attempts, dead-lettered) are
// kept in memory and written with each delivery outcome.
//
// # Networking
//
// STYLE.md lists events among the packages that do no networking, and also
// assigns it webhook delivery. The package opens no listener and imports no
// protocol package; the webhook target is a plain net/http client (that
// follows no redirects), kept here so delivery, retries and the outbox stay
// one unit. The admin HTTP handler lives in events/admin.
//
// # Locks
//
// subsMu guards the subscriber set (read-locked for non-blocking sends);
// statsMu guards statistics and is held across their store write;
// rulesMu serializes rule writes. None is held while another is taken,
// except rulesMu -> statsMu in DeleteRule.
package events
