package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/store"
)

// MaxAttempts bounds optimistic read-modify-write retries; a write that
// keeps losing races becomes a ConflictException.
const MaxAttempts = 8

// MutateRecord reads a record with load, lets f change it, and writes it
// back only if nobody else updated it meanwhile, retrying lost races. f
// returns false to leave the record unchanged (nothing is written).
func MutateRecord(ctx context.Context, st store.Store, key string, load func(context.Context) (*store.Record, error), f func(*store.Record) (bool, error)) (*store.Record, error) {
	for range MaxAttempts {
		rec, err := load(ctx)
		if err != nil {
			return nil, err
		}
		changed, err := f(rec)
		if err != nil || !changed {
			return rec, err
		}
		err = store.Update(ctx, st, rec)
		switch {
		case err == nil:
			return rec, nil
		case errors.Is(err, store.ErrNotFound):
			return nil, model.NotFound(key)
		case !errors.Is(err, store.ErrStale):
			return nil, err
		}
	}
	return nil, model.Conflict("Resource %s was modified concurrently; retry the request", key)
}

// Mutate is MutateRecord over a repository's documents: f changes the
// decoded document (and may change the record's attrs or tags).
func (r Repo[T]) Mutate(ctx context.Context, key string, f func(*T, *store.Record) (bool, error)) (Item[T], error) {
	var it Item[T]
	_, err := MutateRecord(ctx, r.Store, key,
		func(ctx context.Context) (*store.Record, error) {
			var err error
			it, err = r.Get(ctx, key)
			return it.Rec, err
		},
		func(rec *store.Record) (bool, error) {
			changed, err := f(it.Doc, rec)
			if err != nil || !changed {
				return false, err
			}
			return true, Encode(rec, it.Doc)
		})
	return it, err
}

// CheckQuota fails with a QuotaError when kind already has limit records
// (under parent when parent is not "").
func CheckQuota(ctx context.Context, st store.Store, kind store.Kind, parent, quota string, limit int) error {
	n, err := st.Count(ctx, kind, parent)
	if err != nil {
		return fmt.Errorf("count %s: %w", kind, err)
	}
	if n >= limit {
		return &model.QuotaError{Quota: quota, Limit: limit}
	}
	return nil
}
