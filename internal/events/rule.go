package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stagecast/stagecast/internal/events/pattern"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Target types.
const (
	TargetWebhook          = "webhook"
	TargetExec             = "exec"
	TargetStartComposition = "start-composition"
)

// Rule origins.
const (
	OriginAPI    = "api"    // created through the admin API / CLI, deleted the same way
	OriginConfig = "config" // declared in the config file, re-synced on every start
)

// Limits on rules, stated once.
const (
	// MaxTargets per rule (EventBridge allows 5).
	MaxTargets = 5
	// MaxNameLen is the longest rule name (EventBridge: 64).
	MaxNameLen = 64
	// MaxCommandArgs and MaxCommandBytes bound an exec target's argv.
	MaxCommandArgs  = 64
	MaxCommandBytes = 4096
	// MaxExecTimeout caps an exec target's timeout.
	MaxExecTimeout = 10 * time.Minute
	// DefaultExecTimeout applies when a target sets none.
	DefaultExecTimeout = 30 * time.Second
	// DefaultWebhookTimeout is the per-attempt HTTP timeout.
	DefaultWebhookTimeout = 10 * time.Second
)

var nameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)

// Rule selects events with an EventBridge pattern and delivers them to its
// targets.
type Rule struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	EventPattern json.RawMessage `json:"event_pattern"`
	Enabled      bool            `json:"enabled"`
	Targets      []Target        `json:"targets"`
	// Origin is OriginAPI or OriginConfig (set by the bus).
	Origin    string    `json:"origin,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Target is where a rule's matching events go; exactly one of the
// type-specific fields is set, matching Type.
type Target struct {
	Type             string                  `json:"type"`
	Webhook          *WebhookTarget          `json:"webhook,omitempty"`
	Exec             *ExecTarget             `json:"exec,omitempty"`
	StartComposition *StartCompositionTarget `json:"start_composition,omitempty"`
}

// WebhookTarget POSTs the event JSON, signed with Secret (see Sign).
type WebhookTarget struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
	// Timeout per attempt; 0 = DefaultWebhookTimeout.
	Timeout Duration `json:"timeout,omitempty"`
}

// ExecTarget runs Command with the event JSON and a newline on stdin.
type ExecTarget struct {
	Command []string `json:"command"`
	// Timeout per run; 0 = DefaultExecTimeout. The process is killed when
	// it expires and the attempt counts as failed.
	Timeout Duration `json:"timeout,omitempty"`
}

// StartCompositionTarget starts a server-side composition of a stage into
// a channel (and optionally S3), the seed's Lambda as one rule.
type StartCompositionTarget struct {
	// StageArn is the stage to compose; "" means the stage ARN found in the
	// event's resources.
	StageArn string `json:"stage_arn,omitempty"`
	// DestinationChannelArn and EncoderConfigurationArn describe the channel
	// destination (the encoder configuration is optional).
	DestinationChannelArn   string `json:"destination_channel_arn,omitempty"`
	EncoderConfigurationArn string `json:"encoder_configuration_arn,omitempty"`
	// StorageConfigurationArn, when set, adds an S3 destination recorded
	// with EncoderConfigurationArns.
	StorageConfigurationArn  string   `json:"storage_configuration_arn,omitempty"`
	EncoderConfigurationArns []string `json:"encoder_configuration_arns,omitempty"`
	// Layout is passed as is ("" grid/pip defaults are the service's).
	Layout *rtapi.LayoutConfiguration `json:"layout,omitempty"`
}

// Duration is a time.Duration that encodes as a Go duration string.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"10s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ErrInvalidRule wraps every rule validation failure.
var ErrInvalidRule = errors.New("invalid rule")

// Validate checks r and compiles its pattern; every problem is reported.
func (r *Rule) Validate() (*pattern.Pattern, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(r.Name) == 0 || len(r.Name) > MaxNameLen || !nameRE.MatchString(r.Name) {
		bad("name %q: 1-%d characters of letters, digits, '.', '-' and '_'", r.Name, MaxNameLen)
	}
	p, err := pattern.Compile(r.EventPattern)
	if err != nil {
		bad("event_pattern: %w", err)
	}
	if len(r.Targets) == 0 || len(r.Targets) > MaxTargets {
		bad("targets: need 1 to %d targets, have %d", MaxTargets, len(r.Targets))
	}
	for i, t := range r.Targets {
		if err := t.validate(); err != nil {
			bad("targets[%d]: %w", i, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRule, errors.Join(errs...))
	}
	return p, nil
}

func (t *Target) validate() error {
	set := 0
	for _, b := range []bool{t.Webhook != nil, t.Exec != nil, t.StartComposition != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return errors.New("exactly one of webhook, exec and start_composition must be set")
	}
	switch {
	case t.Type == TargetWebhook && t.Webhook != nil:
		u, err := url.Parse(t.Webhook.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("webhook url %q: must be an absolute http or https URL", t.Webhook.URL)
		}
		if t.Webhook.Secret == "" {
			return errors.New("webhook secret: must not be empty")
		}
		if t.Webhook.Timeout < 0 {
			return errors.New("webhook timeout: must not be negative")
		}
	case t.Type == TargetExec && t.Exec != nil:
		if len(t.Exec.Command) == 0 || t.Exec.Command[0] == "" {
			return errors.New("exec command: must not be empty")
		}
		n := 0
		for _, a := range t.Exec.Command {
			n += len(a)
		}
		if len(t.Exec.Command) > MaxCommandArgs || n > MaxCommandBytes {
			return fmt.Errorf("exec command: at most %d arguments and %d bytes", MaxCommandArgs, MaxCommandBytes)
		}
		if t.Exec.Timeout < 0 || time.Duration(t.Exec.Timeout) > MaxExecTimeout {
			return fmt.Errorf("exec timeout: between 0 and %s", MaxExecTimeout)
		}
	case t.Type == TargetStartComposition && t.StartComposition != nil:
		s := t.StartComposition
		if s.StageArn != "" && !strings.Contains(s.StageArn, ":stage/") {
			return fmt.Errorf("start_composition stage_arn %q: not a stage ARN", s.StageArn)
		}
		if s.DestinationChannelArn == "" && s.StorageConfigurationArn == "" {
			return errors.New("start_composition: destination_channel_arn or storage_configuration_arn is required")
		}
		if s.DestinationChannelArn != "" && !strings.Contains(s.DestinationChannelArn, ":channel/") {
			return fmt.Errorf("start_composition destination_channel_arn %q: not a channel ARN", s.DestinationChannelArn)
		}
		if s.StorageConfigurationArn != "" && len(s.EncoderConfigurationArns) == 0 {
			return errors.New("start_composition: an s3 destination needs encoder_configuration_arns")
		}
		if s.Layout != nil && s.Layout.Grid != nil && s.Layout.Pip != nil {
			return errors.New("start_composition layout: grid or pip, not both")
		}
	default:
		return fmt.Errorf("type %q: must be webhook, exec or start-composition with its matching settings", t.Type)
	}
	return nil
}

// Redacted returns a copy of r with webhook secrets hidden, for listing.
func (r Rule) Redacted() Rule {
	out := r
	out.Targets = make([]Target, len(r.Targets))
	for i, t := range r.Targets {
		if t.Webhook != nil {
			w := *t.Webhook
			w.Secret = "[REDACTED]"
			t.Webhook = &w
		}
		out.Targets[i] = t
	}
	return out
}
