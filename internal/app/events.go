package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stagecast/stagecast/internal/auth/sigv4"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/events"
	"github.com/stagecast/stagecast/internal/events/admin"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/obs"
	"github.com/stagecast/stagecast/internal/transcode/cmdrun"
)

// eventsBus names the bus type for the App field without an import in app.go.
type eventsBus = events.Bus

// wireEvents builds the event bus and rules; it must set a.Events (nil drops events). It runs before the control services are built.
func (a *App) wireEvents(ctx context.Context) error {
	c := a.cfg.Events
	rules, err := configRules(c)
	if err != nil {
		return err
	}
	bus, err := events.New(ctx, events.Options{
		Store: a.Store, Account: a.cfg.AccountID, Region: a.cfg.Region,
		Log:       obs.Component(a.log, "events"),
		QueueSize: c.QueueSize, Workers: c.Workers,
		Retry:       events.RetryPolicy{MaxAttempts: c.Retry.MaxAttempts, Base: c.Retry.Base, Max: c.Retry.Max},
		Runner:      cmdrun.Runner{},
		Starter:     lateStarter{a},
		ConfigRules: rules,
	})
	if err != nil {
		return err
	}
	a.EventBus = bus
	a.Events = bus
	a.goRun("events", bus.Run)
	// Closers run after every runner has returned and before the store
	// closes: events published during shutdown reach the outbox.
	a.onClose(bus.Close)
	verifier := sigv4.NewVerifier(a.Keys, sigv4.Options{MaxBodyBytes: admin.MaxBodyBytes})
	a.rulesAPI = admin.Handler(bus, func(r *http.Request) ([]byte, error) {
		id, err := verifier.Verify(r)
		if e, ok := errors.AsType[*sigv4.Error](err); ok {
			return nil, &admin.AuthError{Status: e.Status, Message: e.Message}
		}
		if err != nil {
			return nil, err
		}
		return id.Body, nil
	}, obs.Component(a.log, "events"))
	return nil
}

// withRulesAPI serves the rules admin API (/_stagecast/...) beside the IVS
// API on the control listener.
func (a *App) withRulesAPI(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.rulesAPI != nil && strings.HasPrefix(r.URL.Path, admin.Prefix) {
			a.rulesAPI.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// lateStarter reaches a.Stages, which is built after the bus (the stages
// service publishes to it); deliveries only run once the App runs.
type lateStarter struct{ a *App }

func (s lateStarter) StartComposition(ctx context.Context, in *rtapi.StartCompositionRequest) (*rtapi.StartCompositionResponse, error) {
	if s.a.Stages == nil {
		return nil, fmt.Errorf("stages service not ready")
	}
	return s.a.Stages.StartComposition(ctx, in)
}

// configRules turns the events section into rules: each events.webhooks
// entry becomes a rule named by its name or "webhook-<n>".
func configRules(c config.Events) ([]events.Rule, error) {
	var out []events.Rule
	for i, w := range c.Webhooks {
		p, err := config.PatternJSON(w.EventPattern)
		if err != nil {
			return nil, err
		}
		if p == "" {
			p = config.AllEventsPattern
		}
		name := w.Name
		if name == "" {
			name = fmt.Sprintf("webhook-%d", i+1)
		}
		out = append(out, events.Rule{
			Name: name, Enabled: true, EventPattern: json.RawMessage(p),
			Description: "events.webhooks[" + fmt.Sprint(i) + "] of the config file",
			Targets:     []events.Target{webhookTarget(&w)},
		})
	}
	for _, r := range c.Rules {
		p, err := config.PatternJSON(r.EventPattern)
		if err != nil {
			return nil, err
		}
		rule := events.Rule{Name: r.Name, Enabled: r.Enabled == nil || *r.Enabled, EventPattern: json.RawMessage(p)}
		for _, t := range r.RuleTargets() {
			switch {
			case t.Webhook != nil:
				rule.Targets = append(rule.Targets, webhookTarget(t.Webhook))
			case t.Exec != nil:
				rule.Targets = append(rule.Targets, events.Target{Type: events.TargetExec, Exec: &events.ExecTarget{
					Command: t.Exec.Command, Timeout: events.Duration(t.Exec.Timeout)}})
			case t.StartComposition != nil:
				s := t.StartComposition
				layout, err := Layout(s.Layout, s.LayoutJSON)
				if err != nil {
					return nil, fmt.Errorf("events rule %s: %w", r.Name, err)
				}
				rule.Targets = append(rule.Targets, events.Target{Type: events.TargetStartComposition, StartComposition: &events.StartCompositionTarget{
					StageArn: s.StageArn, DestinationChannelArn: s.DestinationChannelArn, EncoderConfigurationArn: s.EncoderConfigurationArn,
					StorageConfigurationArn: s.StorageConfigurationArn, EncoderConfigurationArns: s.EncoderConfigurationArns, Layout: layout,
				}})
			}
		}
		out = append(out, rule)
	}
	return out, nil
}

func webhookTarget(w *config.EventWebhook) events.Target {
	return events.Target{Type: events.TargetWebhook, Webhook: &events.WebhookTarget{
		URL: w.URL, Secret: w.Secret, Timeout: events.Duration(w.Timeout)}}
}

// Layout builds a composition layout from "grid"/"pip" or a full IVS
// LayoutConfiguration in JSON (which wins); nil leaves the service default.
func Layout(name, raw string) (*rtapi.LayoutConfiguration, error) {
	if raw != "" {
		var l rtapi.LayoutConfiguration
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			return nil, fmt.Errorf("layout json: %w", err)
		}
		return &l, nil
	}
	switch name {
	case "":
		return nil, nil
	case "grid":
		return &rtapi.LayoutConfiguration{Grid: &rtapi.GridConfiguration{}}, nil
	case "pip":
		return &rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{}}, nil
	}
	return nil, fmt.Errorf("layout %q: grid or pip", name)
}
