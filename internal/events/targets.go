package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
)

// Webhook headers. The signature is
//
//	X-Stagecast-Signature: sha256=<hex(HMAC-SHA256(secret, timestamp + "." + body))>
//
// where timestamp is the X-Stagecast-Timestamp header (Unix seconds, the
// time of this attempt) and body the exact request body. Receivers
// recompute it, compare in constant time and reject stale timestamps (see
// Verify).
const (
	HeaderSignature = "X-Stagecast-Signature"
	HeaderTimestamp = "X-Stagecast-Timestamp"
	HeaderEventID   = "X-Stagecast-Event-Id"
	HeaderAttempt   = "X-Stagecast-Delivery-Attempt"
	HeaderRule      = "X-Stagecast-Rule"
)

// maxResponseBytes is how much of a webhook response or command output is
// kept for the error message.
const maxResponseBytes = 512

// Sign returns the X-Stagecast-Signature value for body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature   = errors.New("webhook signature does not match")
	ErrStaleTimestamp = errors.New("webhook timestamp outside the allowed window")
)

// Verify checks a received webhook: the signature header against the
// body and timestamp header, and the timestamp within maxSkew of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp %q", ErrStaleTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return ErrStaleTimestamp
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(h.Get(HeaderSignature))) {
		return ErrBadSignature
	}
	return nil
}

func (b *Bus) deliver(ctx context.Context, t Target, d *delivery) error {
	switch {
	case t.Webhook != nil:
		return b.webhook(ctx, t.Webhook, d)
	case t.Exec != nil:
		return b.exec(ctx, t.Exec, d)
	case t.StartComposition != nil:
		return b.startComposition(ctx, t.StartComposition, d)
	}
	return permanent(fmt.Errorf("target type %q has no settings", t.Type))
}

func (b *Bus) webhook(ctx context.Context, w *WebhookTarget, d *delivery) error {
	timeout := time.Duration(w.Timeout)
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.doc.Event))
	if err != nil {
		return permanent(fmt.Errorf("webhook request: %w", err))
	}
	ts := strconv.FormatInt(b.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stagecast-events/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, d.doc.Event))
	req.Header.Set(HeaderEventID, d.doc.EventID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(d.doc.Attempts+1))
	req.Header.Set(HeaderRule, d.doc.Rule)
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("webhook status %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	// Like EventBridge API destinations: retry 408, 429 and 5xx; other
	// client errors will not get better.
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return permanent(err)
	}
	return err
}

func (b *Bus) exec(ctx context.Context, x *ExecTarget, d *delivery) error {
	if b.runner == nil {
		return permanent(errors.New("exec targets are not available on this server"))
	}
	timeout := time.Duration(x.Timeout)
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// One line per event: "cat >> events.jsonl" builds a JSON-lines file.
	out, err := b.runner.Run(cctx, x.Command, append(append([]byte(nil), d.doc.Event...), '\n'))
	if err == nil {
		return nil
	}
	if len(out) > maxResponseBytes {
		out = out[len(out)-maxResponseBytes:]
	}
	if cctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("exec %s: killed after the %s timeout", x.Command[0], timeout)
	}
	return fmt.Errorf("exec %s: %w: %s", x.Command[0], err, strings.TrimSpace(string(out)))
}

// eventFields is what start-composition reads from an event.
type eventFields struct {
	ID        string   `json:"id"`
	Resources []string `json:"resources"`
	Detail    struct {
		SessionID string `json:"session_id"`
	} `json:"detail"`
}

// IdempotencyToken is the token a start-composition target sends for a
// stage session: the same rule and session always produce the same token,
// so every "Participant Published" of one session starts one composition.
func IdempotencyToken(rule, sessionID string) string {
	sum := sha256.Sum256([]byte(rule))
	return "stagecast-" + hex.EncodeToString(sum[:6]) + "-" + sessionID
}

func (b *Bus) startComposition(ctx context.Context, s *StartCompositionTarget, d *delivery) error {
	if b.starter == nil {
		return permanent(errors.New("start-composition targets are not available on this server"))
	}
	var ev eventFields
	if err := json.Unmarshal(d.doc.Event, &ev); err != nil {
		return permanent(fmt.Errorf("decode event: %w", err))
	}
	stage := s.StageArn
	if stage == "" {
		for _, r := range ev.Resources {
			if _, _, typ, _, err := model.ParseARN(r); err == nil && typ == "stage" {
				stage = r
				break
			}
		}
		if stage == "" {
			return permanent(errors.New("start-composition: the event names no stage ARN in its resources"))
		}
	}
	session := ev.Detail.SessionID
	if session == "" {
		session = ev.ID
	}
	token := IdempotencyToken(d.doc.Rule, session)
	// Two participants publishing at once give two deliveries with one
	// token; the service refuses a token whose first request is still in
	// progress, so they take turns and the second finds the composition.
	release, err := b.inflight.acquire(ctx, token)
	if err != nil {
		return err
	}
	defer release()
	req := &rtapi.StartCompositionRequest{StageArn: &stage, IdempotencyToken: &token, Layout: s.Layout}
	if s.DestinationChannelArn != "" {
		ch := &rtapi.ChannelDestinationConfiguration{ChannelArn: &s.DestinationChannelArn}
		if s.EncoderConfigurationArn != "" {
			ch.EncoderConfigurationArn = &s.EncoderConfigurationArn
		}
		req.Destinations = append(req.Destinations, rtapi.DestinationConfiguration{Channel: ch})
	}
	if s.StorageConfigurationArn != "" {
		req.Destinations = append(req.Destinations, rtapi.DestinationConfiguration{S3: &rtapi.S3DestinationConfiguration{
			StorageConfigurationArn: &s.StorageConfigurationArn, EncoderConfigurationArns: s.EncoderConfigurationArns,
		}})
	}
	resp, err := b.starter.StartComposition(ctx, req)
	if err != nil {
		err = fmt.Errorf("start composition for %s: %w", stage, err)
		// Missing resources and invalid requests are final. Conflicts (the
		// channel is used by another composition) and quotas may clear up:
		// they are retried with the usual backoff.
		var nf *model.NotFoundError
		var ve *wire.ValidationError
		if errors.As(err, &nf) || errors.As(err, &ve) {
			return permanent(err)
		}
		return err
	}
	if resp != nil && resp.Composition != nil && resp.Composition.Arn != nil {
		b.log.Info("composition started by rule", "rule", d.doc.Rule, "stage_arn", stage, "composition_arn", *resp.Composition.Arn, "session_id", session)
	}
	return nil
}

// keyLocks lets one holder per key run at a time.
type keyLocks struct {
	mu   sync.Mutex
	busy map[string]chan struct{} // closed when the holder releases
}

func (k *keyLocks) acquire(ctx context.Context, key string) (release func(), err error) {
	for {
		k.mu.Lock()
		if k.busy == nil {
			k.busy = map[string]chan struct{}{}
		}
		ch, taken := k.busy[key]
		if !taken {
			ch = make(chan struct{})
			k.busy[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.busy, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
