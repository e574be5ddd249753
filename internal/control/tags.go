package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// MaxTags is the IVS limit of tags per resource.
const MaxTags = 50

// Tagger implements the three tagging operations over any record kind in
// kinds (each service passes the kinds whose ARNs it owns).
type Tagger struct {
	Store store.Store
	Kinds map[store.Kind]bool
}

func (t Tagger) load(ctx context.Context, arn string) (*store.Record, error) {
	rec, err := t.Store.Get(ctx, arn)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Kinds[rec.Kind]) {
		return nil, model.NotFound(arn)
	}
	return rec, err
}

// List returns the resource's tags.
func (t Tagger) List(ctx context.Context, arn string) (map[string]string, error) {
	rec, err := t.load(ctx, arn)
	if err != nil {
		return nil, err
	}
	return TagsOf(rec), nil
}

// Tag adds or replaces tags, keeping at most MaxTags.
func (t Tagger) Tag(ctx context.Context, arn string, tags map[string]string) error {
	return t.mutate(ctx, arn, func(m map[string]string) error {
		for k, v := range tags {
			m[k] = v
		}
		if len(m) > MaxTags {
			// TagResource models no quota error: a ValidationException is
			// what the SDKs can surface as a typed error.
			return wire.Invalid("tags", fmt.Sprintf("A resource may have at most %d tags; this request would leave %d", MaxTags, len(m)))
		}
		return nil
	})
}

// Untag removes tag keys (absent keys are ignored).
func (t Tagger) Untag(ctx context.Context, arn string, keys []string) error {
	return t.mutate(ctx, arn, func(m map[string]string) error {
		for _, k := range keys {
			delete(m, k)
		}
		return nil
	})
}

func (t Tagger) mutate(ctx context.Context, arn string, f func(map[string]string) error) error {
	_, err := MutateRecord(ctx, t.Store, arn,
		func(ctx context.Context) (*store.Record, error) { return t.load(ctx, arn) },
		func(rec *store.Record) (bool, error) {
			m := make(map[string]string, len(rec.Tags))
			for k, v := range rec.Tags {
				m[k] = v
			}
			if err := f(m); err != nil {
				return false, err
			}
			rec.Tags = m
			return true, nil
		})
	return err
}
