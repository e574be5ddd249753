package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/stagecast/stagecast/internal/events/pattern"
)

// Events configures the event bus, rules, webhooks and their delivery
// (internal/events). Rules declared here are re-synced into the store on
// every start; rules created with "stagecast rules create" live beside them.
type Events struct {
	// QueueSize bounds the events waiting to be matched and persisted;
	// Publish drops (and counts) when it is full.
	QueueSize int `yaml:"queue_size"`
	// Workers bounds the deliveries running at once.
	Workers int         `yaml:"workers"`
	Retry   EventsRetry `yaml:"retry"`
	// Webhooks receive events (all of them unless event_pattern narrows
	// them) signed with their secret. Each becomes a rule named by its
	// name, or "webhook-<n>" (1-based position) when it has none.
	Webhooks []EventWebhook `yaml:"webhooks"`
	// Rules are full rules: a pattern and one or more targets.
	Rules []EventRule `yaml:"rules"`
}

// EventsRetry is the delivery retry policy.
type EventsRetry struct {
	// MaxAttempts counts the first try; then the delivery is dead-lettered.
	MaxAttempts int `yaml:"max_attempts"`
	// Base is the delay after the first failure, doubled per attempt up to
	// Max, each jittered to between half and all of it.
	Base time.Duration `yaml:"base"`
	Max  time.Duration `yaml:"max"`
}

// EventWebhook is a webhook target, alone (events.webhooks) or in a rule.
type EventWebhook struct {
	// Name (webhooks list only) names the rule; default "webhook-<n>".
	Name   string `yaml:"name"`
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
	// EventPattern (webhooks list only): a pattern as a YAML mapping or a
	// JSON string; empty means every event.
	EventPattern any `yaml:"event_pattern"`
	// Timeout per attempt; 0 means 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// EventRule is one rule of the config file.
type EventRule struct {
	Name string `yaml:"name"`
	// EventPattern is an EventBridge pattern, as a YAML mapping or a JSON string.
	EventPattern any `yaml:"event_pattern"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
	// Targets, or the shorthand single-target fields below.
	Targets          []EventTarget          `yaml:"targets"`
	Webhook          *EventWebhook          `yaml:"webhook"`
	Exec             *EventExec             `yaml:"exec"`
	StartComposition *EventStartComposition `yaml:"start_composition"`
}

// EventTarget is one target of a rule: exactly one field set.
type EventTarget struct {
	Webhook          *EventWebhook          `yaml:"webhook"`
	Exec             *EventExec             `yaml:"exec"`
	StartComposition *EventStartComposition `yaml:"start_composition"`
}

// EventExec runs a command (argv, no shell) with the event on stdin.
type EventExec struct {
	Command []string      `yaml:"command"`
	Timeout time.Duration `yaml:"timeout"`
}

// EventStartComposition starts a server-side composition, like the
// seed's Lambda: the stage in the event (or StageArn) into a channel.
type EventStartComposition struct {
	StageArn                 string   `yaml:"stage_arn"`
	DestinationChannelArn    string   `yaml:"destination_channel_arn"`
	EncoderConfigurationArn  string   `yaml:"encoder_configuration_arn"`
	StorageConfigurationArn  string   `yaml:"storage_configuration_arn"`
	EncoderConfigurationArns []string `yaml:"encoder_configuration_arns"`
	// Layout is "grid" (default) or "pip"; LayoutJSON, when set, is a full
	// IVS LayoutConfiguration ({"pip":{"pipPosition":"TOP_LEFT"}}).
	Layout     string `yaml:"layout"`
	LayoutJSON string `yaml:"layout_json"`
}

// AllEventsPattern matches every event the platform emits.
const AllEventsPattern = `{"source":["aws.ivs"]}`

func defaultEvents() Events {
	return Events{QueueSize: 4096, Workers: 4, Retry: EventsRetry{MaxAttempts: 8, Base: time.Second, Max: 5 * time.Minute}}
}

// PatternJSON returns an event_pattern value as JSON ("" for none).
func PatternJSON(v any) (string, error) {
	switch p := v.(type) {
	case nil:
		return "", nil
	case string:
		return p, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("event_pattern is not representable as JSON: %w", err)
	}
	return string(raw), nil
}

// RuleTargets returns the rule's targets: Targets plus the shorthand ones.
func (r EventRule) RuleTargets() []EventTarget {
	ts := append([]EventTarget(nil), r.Targets...)
	if r.Webhook != nil || r.Exec != nil || r.StartComposition != nil {
		ts = append(ts, EventTarget{Webhook: r.Webhook, Exec: r.Exec, StartComposition: r.StartComposition})
	}
	return ts
}

// validate reports invalid events settings (nil when valid).
func (c Events) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.QueueSize < 1 || c.QueueSize > 1<<20 {
		bad("events.queue_size %d must be in [1, 1048576]", c.QueueSize)
	}
	if c.Workers < 1 || c.Workers > 256 {
		bad("events.workers %d must be in [1, 256]", c.Workers)
	}
	if c.Retry.MaxAttempts < 1 || c.Retry.MaxAttempts > 100 {
		bad("events.retry.max_attempts %d must be in [1, 100]", c.Retry.MaxAttempts)
	}
	if c.Retry.Base <= 0 || c.Retry.Max < c.Retry.Base {
		bad("events.retry.base %v must be positive and max %v at least base", c.Retry.Base, c.Retry.Max)
	}
	checkPattern := func(field string, v any, required bool) {
		raw, err := PatternJSON(v)
		if err != nil {
			bad("%s: %v", field, err)
			return
		}
		if raw == "" {
			if required {
				bad("%s: required", field)
			}
			return
		}
		if _, err := pattern.Compile([]byte(raw)); err != nil {
			bad("%s: %v", field, err)
		}
	}
	checkWebhook := func(field string, w *EventWebhook) {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s.url %q must be an absolute http or https URL", field, w.URL)
		}
		if w.Secret == "" {
			bad("%s.secret must not be empty (it signs every request)", field)
		}
		if w.Timeout < 0 {
			bad("%s.timeout must not be negative", field)
		}
	}
	names := map[string]bool{}
	for i, w := range c.Webhooks {
		f := fmt.Sprintf("events.webhooks[%d]", i)
		name := w.Name
		if name == "" {
			name = fmt.Sprintf("webhook-%d", i+1)
		}
		if names[name] {
			bad("%s.name %q: used twice", f, name)
		}
		names[name] = true
		checkWebhook(f, &w)
		checkPattern(f+".event_pattern", w.EventPattern, false)
	}
	for i, r := range c.Rules {
		f := fmt.Sprintf("events.rules[%d]", i)
		if r.Name == "" {
			bad("%s.name: required", f)
		} else if names[r.Name] {
			bad("%s.name %q: declared twice", f, r.Name)
		}
		names[r.Name] = true
		checkPattern(f+".event_pattern", r.EventPattern, true)
		ts := r.RuleTargets()
		if len(ts) == 0 {
			bad("%s: needs a target (webhook, exec, start_composition or targets)", f)
		}
		for j, t := range ts {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			n := 0
			if t.Webhook != nil {
				n++
				if t.Webhook.EventPattern != nil || t.Webhook.Name != "" {
					bad("%s.webhook: name and event_pattern belong to the rule", tf)
				}
				checkWebhook(tf+".webhook", t.Webhook)
			}
			if t.Exec != nil {
				n++
				if len(t.Exec.Command) == 0 || t.Exec.Command[0] == "" {
					bad("%s.exec.command: required (a list: [program, args...])", tf)
				}
				if t.Exec.Timeout < 0 {
					bad("%s.exec.timeout must not be negative", tf)
				}
			}
			if s := t.StartComposition; s != nil {
				n++
				if s.DestinationChannelArn == "" && s.StorageConfigurationArn == "" {
					bad("%s.start_composition: destination_channel_arn or storage_configuration_arn is required", tf)
				}
				switch s.Layout {
				case "", "grid", "pip":
				default:
					bad("%s.start_composition.layout %q must be grid or pip", tf, s.Layout)
				}
				if s.LayoutJSON != "" && !json.Valid([]byte(s.LayoutJSON)) {
					bad("%s.start_composition.layout_json is not JSON", tf)
				}
			}
			if n != 1 {
				bad("%s: exactly one of webhook, exec and start_composition", tf)
			}
		}
	}
	return errors.Join(errs...)
}
