package control

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// Repo stores documents of type T (usually an API shape, or a struct that
// embeds one plus private fields) under one store kind.
type Repo[T any] struct {
	Kind  store.Kind
	Store store.Store
}

// Item is one document with its store record (tags, version, seq...).
type Item[T any] struct {
	Doc *T
	Rec *store.Record
}

// NewRecord builds a record holding doc.
func NewRecord[T any](kind store.Kind, key string, doc *T) (*store.Record, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	return &store.Record{Key: key, Kind: kind, Data: data}, nil
}

// Encode stores doc into rec.Data.
func Encode[T any](rec *store.Record, doc *T) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", rec.Kind, rec.Key, err)
	}
	rec.Data = data
	return nil
}

// Decode reads a record's document.
func Decode[T any](rec *store.Record) (*T, error) {
	doc := new(T)
	if err := json.Unmarshal(rec.Data, doc); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", rec.Kind, rec.Key, err)
	}
	return doc, nil
}

// Get loads the document with that key. A missing record, or one of
// another kind, is a *model.NotFoundError naming key.
func (r Repo[T]) Get(ctx context.Context, key string) (Item[T], error) {
	rec, err := r.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Kind != r.Kind) {
		return Item[T]{}, model.NotFound(key)
	}
	if err != nil {
		return Item[T]{}, err
	}
	doc, err := Decode[T](rec)
	if err != nil {
		return Item[T]{}, err
	}
	return Item[T]{Doc: doc, Rec: rec}, nil
}

// List returns one page of documents matching q (q.Kind is set to the
// repo's kind) and the next token, nil when this is the last page.
func (r Repo[T]) List(ctx context.Context, q store.Query, nextToken *string, maxResults *int64, defaultLimit int) ([]Item[T], *string, error) {
	q.Kind = r.Kind
	after, err := DecodeToken(nextToken)
	if err != nil {
		return nil, nil, err
	}
	q.AfterSeq = after
	q.Limit = defaultLimit
	if maxResults != nil && *maxResults > 0 {
		q.Limit = int(*maxResults)
	}
	page, err := r.Store.List(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	items := make([]Item[T], 0, len(page.Records))
	for _, rec := range page.Records {
		doc, err := Decode[T](rec)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, Item[T]{Doc: doc, Rec: rec})
	}
	var next *string
	if page.More && len(page.Records) > 0 {
		t := EncodeToken(page.Records[len(page.Records)-1].Seq)
		next = &t
	}
	return items, next, nil
}

const tokenPrefix = "v1."

// EncodeToken turns a list position into an opaque nextToken.
func EncodeToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + strconv.FormatInt(seq, 10)))
}

// DecodeToken reads a nextToken; nil or "" is the start.
func DecodeToken(tok *string) (int64, error) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		if s, ok := strings.CutPrefix(string(raw), tokenPrefix); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, wire.Invalid("nextToken", "The pagination token is invalid or expired")
}

// TagsOf returns a record's tags as the API shows them: never nil.
func TagsOf(rec *store.Record) map[string]string {
	if rec.Tags == nil {
		return map[string]string{}
	}
	return rec.Tags
}
