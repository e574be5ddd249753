package store

import (
	"context"
	"errors"
	"time"
)

// Kind names a resource type. For resources that have an ARN it is the ARN's
// resource-type segment ("channel", "stream-key", "stage", ...); internal
// records (sessions, participants, events) use their own names.
type Kind string

// Resource kinds stored by the control plane.
const (
	KindChannel                   Kind = "channel"
	KindStreamKey                 Kind = "stream-key"
	KindPlaybackKey               Kind = "playback-key"
	KindRecordingConfiguration    Kind = "recording-configuration"
	KindPlaybackRestrictionPolicy Kind = "playback-restriction-policy"
	KindAdConfiguration           Kind = "ad-configuration"
	KindStreamSession             Kind = "stream-session"
	KindViewerRevocation          Kind = "viewer-revocation"

	KindStage                  Kind = "stage"
	KindStageSession           Kind = "stage-session"
	KindParticipant            Kind = "participant"
	KindParticipantEvent       Kind = "participant-event"
	KindRevokedParticipant     Kind = "revoked-participant"
	KindComposition            Kind = "composition"
	KindEncoderConfiguration   Kind = "encoder-configuration"
	KindStorageConfiguration   Kind = "storage-configuration"
	KindPublicKey              Kind = "public-key"
	KindIngestConfiguration    Kind = "ingest-configuration"
	KindParticipantReplication Kind = "participant-replication"
)

// Errors callers branch on.
var (
	// ErrNotFound: no record has that key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record with that key (or that kind+lookup) already exists.
	ErrExists = errors.New("store: already exists")
	// ErrStale: an update carried a Version that is no longer current.
	ErrStale = errors.New("store: stale version")
)

// Attr is one indexed attribute of a record, used to filter lists
// (a channel's recording configuration ARN, a composition's stage ARN...).
// A record may carry the same Name several times with different values.
type Attr struct {
	Name  string
	Value string
}

// Record is one stored resource: a JSON document plus the few columns the
// store indexes. The store never looks inside Data.
type Record struct {
	// Key is the primary key, unique across all kinds. It is the ARN for
	// resources that have one; internal records use a synthetic key
	// (for example "<stage arn>/session/<id>").
	Key string
	// Kind is the resource type.
	Kind Kind
	// Parent is the key of the owning record, or "". Deleting a record
	// deletes its children, recursively.
	Parent string
	// Lookup is an optional secondary key, unique within Kind
	// (a stream key's value, a composition's idempotency token). "" = none.
	Lookup string
	// Attrs are indexed attributes used by List filters.
	Attrs []Attr
	// Tags are the resource's AWS tags (nil = none).
	Tags map[string]string
	// Data is the resource document (JSON), opaque to the store.
	Data []byte
	// CreatedAt is set by Create when zero.
	CreatedAt time.Time
	// Seq is assigned by the store on create: a strictly increasing number
	// that orders lists and anchors pagination.
	Seq int64
	// Version starts at 1 and grows by one on every update.
	Version int64
}

// Query selects records for List. All conditions are ANDed.
type Query struct {
	Kind Kind
	// Parent, when not "", keeps only direct children of that key.
	Parent string
	// Attrs keeps records that carry every listed attribute (exact match).
	Attrs []Attr
	// AfterSeq keeps records with Seq > AfterSeq (pagination anchor).
	AfterSeq int64
	// Limit is the page size; 0 means no limit.
	Limit int
	// Descending lists newest first (Seq decreasing); AfterSeq then keeps
	// records with Seq < AfterSeq (when AfterSeq > 0).
	Descending bool
}

// Page is one page of a List.
type Page struct {
	Records []*Record
	// More reports whether records beyond this page match the query.
	More bool
}

// OpType is the type of one write in an Apply batch.
type OpType int

// Write operations.
const (
	OpCreate OpType = iota + 1 // insert Record; ErrExists if Key or (Kind, Lookup) is taken
	OpUpdate                   // replace Record by Key; ErrStale unless Record.Version matches; ErrNotFound if absent
	OpDelete                   // delete Key and its descendants; ErrNotFound if absent
	OpPut                      // insert or replace Record by Key, ignoring Version
)

// Op is one write in an Apply batch.
type Op struct {
	Type   OpType
	Record *Record // for OpCreate, OpUpdate, OpPut
	Key    string  // for OpDelete
}

// Store keeps control-plane resources. Implementations: store/sqlite
// (default) and, later, store/postgres. All methods are safe for concurrent
// use; every call blocks on the database.
type Store interface {
	// Get returns the record with that key, or ErrNotFound.
	Get(ctx context.Context, key string) (*Record, error)
	// GetByLookup returns the record of that kind with that lookup key,
	// or ErrNotFound.
	GetByLookup(ctx context.Context, kind Kind, lookup string) (*Record, error)
	// List returns one page of the records matching q, ordered by Seq.
	List(ctx context.Context, q Query) (Page, error)
	// Count returns how many records of that kind exist (under parent when
	// parent is not ""). Used for quotas.
	Count(ctx context.Context, kind Kind, parent string) (int, error)
	// Apply runs the writes atomically: all of them or none. On success the
	// records of OpCreate/OpUpdate/OpPut have their Seq, Version and
	// CreatedAt fields updated in place.
	Apply(ctx context.Context, ops ...Op) error
	// Close releases the database.
	Close() error
}

// Create inserts one record.
func Create(ctx context.Context, s Store, r *Record) error {
	return s.Apply(ctx, Op{Type: OpCreate, Record: r})
}

// Update replaces one record (optimistic: r.Version must be current).
func Update(ctx context.Context, s Store, r *Record) error {
	return s.Apply(ctx, Op{Type: OpUpdate, Record: r})
}

// Delete removes one record and its descendants.
func Delete(ctx context.Context, s Store, key string) error {
	return s.Apply(ctx, Op{Type: OpDelete, Key: key})
}
