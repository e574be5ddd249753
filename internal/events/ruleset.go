package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/stagecast/stagecast/internal/events/pattern"
	"github.com/stagecast/stagecast/internal/store"
)

// Errors callers branch on.
var (
	// ErrRuleNotFound: no rule has that name.
	ErrRuleNotFound = errors.New("rule not found")
	// ErrRuleExists: a rule with that name exists.
	ErrRuleExists = errors.New("rule already exists")
	// ErrConfigRule: the rule comes from the config file; change it there.
	ErrConfigRule = errors.New("rule is declared in the config file")
)

const rulePrefix = "stagecast:event-rule/"

func ruleKey(name string) string { return rulePrefix + name }

type compiledRule struct {
	rule Rule
	pat  *pattern.Pattern
}

// ruleSet is an immutable snapshot of the rules, swapped atomically.
type ruleSet struct {
	list []*compiledRule // by name
}

func (s *ruleSet) get(name string) *compiledRule {
	i, ok := slices.BinarySearchFunc(s.list, name, func(r *compiledRule, n string) int {
		switch {
		case r.rule.Name < n:
			return -1
		case r.rule.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return s.list[i]
}

func ruleRecord(r *Rule) (*store.Record, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode rule %s: %w", r.Name, err)
	}
	return &store.Record{Key: ruleKey(r.Name), Kind: KindRule, Lookup: r.Name,
		Attrs: []store.Attr{{Name: "origin", Value: r.Origin}}, Data: data, CreatedAt: r.CreatedAt}, nil
}

// syncConfigRules makes the stored config-origin rules equal to rules:
// new and changed ones are written, vanished ones deleted with their
// outbox and dead letters.
func (b *Bus) syncConfigRules(ctx context.Context, rules []Rule) error {
	want := map[string]bool{}
	var ops []store.Op
	for i := range rules {
		r := rules[i]
		r.Origin = OriginConfig
		if r.CreatedAt.IsZero() {
			r.CreatedAt = b.now().UTC()
		}
		if _, err := r.Validate(); err != nil {
			return fmt.Errorf("config rule %q: %w", r.Name, err)
		}
		if want[r.Name] {
			return fmt.Errorf("config rule %q: declared twice", r.Name)
		}
		want[r.Name] = true
		if old, err := b.st.Get(ctx, ruleKey(r.Name)); err == nil {
			var o Rule
			if json.Unmarshal(old.Data, &o) == nil {
				if o.Origin != OriginConfig {
					return fmt.Errorf("config rule %q: a rule of that name was created through the API; delete it first", r.Name)
				}
				r.CreatedAt = o.CreatedAt
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("load rule %s: %w", r.Name, err)
		}
		rec, err := ruleRecord(&r)
		if err != nil {
			return err
		}
		ops = append(ops, store.Op{Type: store.OpPut, Record: rec})
	}
	page, err := b.st.List(ctx, store.Query{Kind: KindRule, Attrs: []store.Attr{{Name: "origin", Value: OriginConfig}}})
	if err != nil {
		return fmt.Errorf("list config rules: %w", err)
	}
	for _, rec := range page.Records {
		if !want[rec.Lookup] {
			ops = append(ops, store.Op{Type: store.OpDelete, Key: rec.Key})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if err := b.st.Apply(ctx, ops...); err != nil {
		return fmt.Errorf("store config rules: %w", err)
	}
	return nil
}

// loadRules replaces the snapshot with the stored rules.
func (b *Bus) loadRules(ctx context.Context) error {
	page, err := b.st.List(ctx, store.Query{Kind: KindRule})
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	set := &ruleSet{}
	for _, rec := range page.Records {
		var r Rule
		if err := json.Unmarshal(rec.Data, &r); err != nil {
			return fmt.Errorf("decode rule %s: %w", rec.Key, err)
		}
		p, err := r.Validate()
		if err != nil {
			b.log.Error("stored rule is invalid: ignored", "rule", r.Name, "err", err)
			continue
		}
		set.list = append(set.list, &compiledRule{rule: r, pat: p})
	}
	slices.SortFunc(set.list, func(a, b *compiledRule) int {
		switch {
		case a.rule.Name < b.rule.Name:
			return -1
		case a.rule.Name > b.rule.Name:
			return 1
		}
		return 0
	})
	b.rules.Store(set)
	return nil
}

// CreateRule validates and stores an API rule and starts matching it.
func (b *Bus) CreateRule(ctx context.Context, r Rule) (Rule, error) {
	r.Origin = OriginAPI
	r.CreatedAt = b.now().UTC()
	if _, err := r.Validate(); err != nil {
		return Rule{}, err
	}
	rec, err := ruleRecord(&r)
	if err != nil {
		return Rule{}, err
	}
	b.rulesMu.Lock()
	defer b.rulesMu.Unlock()
	if err := store.Create(ctx, b.st, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return Rule{}, fmt.Errorf("%w: %s", ErrRuleExists, r.Name)
		}
		return Rule{}, fmt.Errorf("create rule: %w", err)
	}
	return r, b.loadRules(ctx)
}

// DeleteRule deletes an API rule with its pending deliveries, dead
// letters and statistics.
func (b *Bus) DeleteRule(ctx context.Context, name string) error {
	b.rulesMu.Lock()
	defer b.rulesMu.Unlock()
	cr := b.rules.Load().get(name)
	if cr == nil {
		return fmt.Errorf("%w: %s", ErrRuleNotFound, name)
	}
	if cr.rule.Origin == OriginConfig {
		return fmt.Errorf("%w: %s", ErrConfigRule, name)
	}
	if err := store.Delete(ctx, b.st, ruleKey(name)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete rule: %w", err)
	}
	b.statsMu.Lock()
	delete(b.stats, name)
	b.statsMu.Unlock()
	return b.loadRules(ctx)
}

// Rule returns a rule (secrets included) by name.
func (b *Bus) Rule(name string) (Rule, error) {
	cr := b.rules.Load().get(name)
	if cr == nil {
		return Rule{}, fmt.Errorf("%w: %s", ErrRuleNotFound, name)
	}
	return cr.rule, nil
}

// Rules returns every rule (secrets included), by name.
func (b *Bus) Rules() []Rule {
	list := b.rules.Load().list
	out := make([]Rule, len(list))
	for i, r := range list {
		out[i] = r.rule
	}
	return out
}
