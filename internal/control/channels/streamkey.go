package channels

import (
	"context"
	"errors"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store"
)

// streamKeyDoc is the stored stream key. Its record has Parent = the
// channel ARN (deleted with the channel) and Lookup = the key value (unique,
// so ingest finds the channel by key).
type streamKeyDoc struct {
	Value      string `json:"value"`
	ChannelArn string `json:"channelArn"`
}

// newStreamKeyRecord builds a fresh stream key for the channel.
func (s *Service) newStreamKeyRecord(channelARN string, tags map[string]string) (*store.Record, *streamKeyDoc, error) {
	value := auth.NewStreamKeyValue(s.d.Identity.Region)
	doc := &streamKeyDoc{Value: value.Reveal(), ChannelArn: channelARN}
	arn := s.d.Identity.ARN(string(store.KindStreamKey), model.NewResourceID())
	rec, err := newRecord(store.KindStreamKey, arn, channelARN, doc, tags)
	if err != nil {
		return nil, nil, err
	}
	rec.Lookup = doc.Value
	return rec, doc, nil
}

func streamKeyOut(rec *store.Record, doc *streamKeyDoc) *ivsapi.StreamKey {
	return &ivsapi.StreamKey{
		Arn:        ptr(rec.Key),
		Value:      ptr(doc.Value),
		ChannelArn: ptr(doc.ChannelArn),
		Tags:       control.TagsOf(rec),
	}
}

// CreateStreamKey implements ivsapi.Service. A channel has at most one key
// (ServiceQuotaExceededException otherwise); the quota check and the insert
// are tied by a guard on the channel, so two concurrent calls cannot both
// succeed.
func (s *Service) CreateStreamKey(ctx context.Context, in *ivsapi.CreateStreamKeyRequest) (*ivsapi.CreateStreamKeyResponse, error) {
	channelARN := str(in.ChannelArn)
	for range maxAttempts {
		ch, err := s.channels.Get(ctx, channelARN)
		if err != nil {
			return nil, err
		}
		if err := s.checkQuota(ctx, store.KindStreamKey, channelARN, "stream keys per channel", MaxStreamKeysPerChannel); err != nil {
			return nil, err
		}
		rec, doc, err := s.newStreamKeyRecord(channelARN, in.Tags)
		if err != nil {
			return nil, err
		}
		err = s.d.Store.Apply(ctx, guard(ch.Rec), store.Op{Type: store.OpCreate, Record: rec})
		if err == nil {
			return &ivsapi.CreateStreamKeyResponse{StreamKey: streamKeyOut(rec, doc)}, nil
		}
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, busy(channelARN)
}

// GetStreamKey implements ivsapi.Service.
func (s *Service) GetStreamKey(ctx context.Context, in *ivsapi.GetStreamKeyRequest) (*ivsapi.GetStreamKeyResponse, error) {
	it, err := s.streamKeys.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetStreamKeyResponse{StreamKey: streamKeyOut(it.Rec, it.Doc)}, nil
}

// BatchGetStreamKey implements ivsapi.Service.
func (s *Service) BatchGetStreamKey(ctx context.Context, in *ivsapi.BatchGetStreamKeyRequest) (*ivsapi.BatchGetStreamKeyResponse, error) {
	out := &ivsapi.BatchGetStreamKeyResponse{StreamKeys: []ivsapi.StreamKey{}, Errors: []ivsapi.BatchError{}}
	seen := make(map[string]bool, len(in.Arns))
	for _, arn := range in.Arns {
		if seen[arn] {
			continue
		}
		seen[arn] = true
		it, err := s.streamKeys.Get(ctx, arn)
		if be, ok := batchError(arn, err); ok {
			out.Errors = append(out.Errors, be)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.StreamKeys = append(out.StreamKeys, *streamKeyOut(it.Rec, it.Doc))
	}
	return out, nil
}

// DeleteStreamKey implements ivsapi.Service.
func (s *Service) DeleteStreamKey(ctx context.Context, in *ivsapi.DeleteStreamKeyRequest) error {
	arn := str(in.Arn)
	if _, err := s.streamKeys.Get(ctx, arn); err != nil {
		return err
	}
	err := store.Delete(ctx, s.d.Store, arn)
	if errors.Is(err, store.ErrNotFound) {
		return model.NotFound(arn)
	}
	return err
}

// ListStreamKeys implements ivsapi.Service.
func (s *Service) ListStreamKeys(ctx context.Context, in *ivsapi.ListStreamKeysRequest) (*ivsapi.ListStreamKeysResponse, error) {
	channelARN := str(in.ChannelArn)
	if _, err := s.channels.Get(ctx, channelARN); err != nil {
		return nil, err
	}
	items, next, err := s.streamKeys.List(ctx, store.Query{Parent: channelARN}, in.NextToken, in.MaxResults, defaultStreamKeyPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListStreamKeysResponse{StreamKeys: make([]ivsapi.StreamKeySummary, 0, len(items)), NextToken: next}
	for _, it := range items {
		out.StreamKeys = append(out.StreamKeys, ivsapi.StreamKeySummary{
			Arn:        ptr(it.Rec.Key),
			ChannelArn: ptr(it.Doc.ChannelArn),
			Tags:       control.TagsOf(it.Rec),
		})
	}
	return out, nil
}

// ChannelForStreamKey returns the channel that the stream key value
// belongs to, for ingest authentication. An unknown value is a
// *model.NotFoundError that does not repeat the value. The stored value is
// compared in constant time after the indexed lookup.
func (s *Service) ChannelForStreamKey(ctx context.Context, value string) (*ivsapi.Channel, error) {
	unknown := &model.NotFoundError{Resource: "stream key"}
	if value == "" {
		return nil, unknown
	}
	rec, err := s.d.Store.GetByLookup(ctx, store.KindStreamKey, value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	doc, err := control.Decode[streamKeyDoc](rec)
	if err != nil {
		return nil, err
	}
	if !auth.EqualSecret(doc.Value, value) {
		return nil, unknown
	}
	ch, err := s.channels.Get(ctx, doc.ChannelArn)
	if err != nil {
		return nil, err
	}
	return s.channelOut(ch.Rec, ch.Doc), nil
}
