package channels

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// keyPairDoc is a stored playback key pair: the public half only, as
// canonical PEM. The record's Lookup is the fingerprint, so the same key
// cannot be imported twice.
type keyPairDoc struct {
	Name              string `json:"name"`
	Fingerprint       string `json:"fingerprint"`
	PublicKeyMaterial string `json:"publicKeyMaterial"`
}

func keyPairOut(rec *store.Record, doc *keyPairDoc) *ivsapi.PlaybackKeyPair {
	return &ivsapi.PlaybackKeyPair{
		Arn:         ptr(rec.Key),
		Name:        ptr(doc.Name),
		Fingerprint: ptr(doc.Fingerprint),
		Tags:        control.TagsOf(rec),
	}
}

// ImportPlaybackKeyPair implements ivsapi.Service. The material must be one
// PEM "PUBLIC KEY" block holding an ECDSA P-384 key.
func (s *Service) ImportPlaybackKeyPair(ctx context.Context, in *ivsapi.ImportPlaybackKeyPairRequest) (*ivsapi.ImportPlaybackKeyPairResponse, error) {
	material := str(in.PublicKeyMaterial)
	pub, err := auth.ParsePublicKeyPEM(material)
	if err != nil {
		return nil, wire.Invalid("publicKeyMaterial", err.Error())
	}
	fp := auth.Fingerprint(pub)
	canonical, err := auth.MarshalPublicKeyPEM(pub)
	if fp == "" || err != nil {
		return nil, wire.Invalid("publicKeyMaterial", "the public key cannot be encoded")
	}
	if err := s.checkQuota(ctx, store.KindPlaybackKey, "", "playback key pairs", MaxPlaybackKeyPairs); err != nil {
		return nil, err
	}
	doc := &keyPairDoc{Name: str(in.Name), Fingerprint: fp, PublicKeyMaterial: canonical}
	arn := s.d.Identity.ARN(string(store.KindPlaybackKey), model.NewResourceID())
	rec, err := newRecord(store.KindPlaybackKey, arn, "", doc, in.Tags)
	if err != nil {
		return nil, err
	}
	rec.Lookup = fp
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, model.Conflict("A playback key pair with fingerprint %s already exists", fp)
		}
		return nil, err
	}
	return &ivsapi.ImportPlaybackKeyPairResponse{KeyPair: keyPairOut(rec, doc)}, nil
}

// GetPlaybackKeyPair implements ivsapi.Service.
func (s *Service) GetPlaybackKeyPair(ctx context.Context, in *ivsapi.GetPlaybackKeyPairRequest) (*ivsapi.GetPlaybackKeyPairResponse, error) {
	it, err := s.keyPairs.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetPlaybackKeyPairResponse{KeyPair: keyPairOut(it.Rec, it.Doc)}, nil
}

// DeletePlaybackKeyPair implements ivsapi.Service. Tokens signed with the
// key stop verifying at once.
func (s *Service) DeletePlaybackKeyPair(ctx context.Context, in *ivsapi.DeletePlaybackKeyPairRequest) (*ivsapi.DeletePlaybackKeyPairResponse, error) {
	if err := s.deleteGuarded(ctx, store.KindPlaybackKey, str(in.Arn), nil); err != nil {
		return nil, err
	}
	return &ivsapi.DeletePlaybackKeyPairResponse{}, nil
}

// ListPlaybackKeyPairs implements ivsapi.Service.
func (s *Service) ListPlaybackKeyPairs(ctx context.Context, in *ivsapi.ListPlaybackKeyPairsRequest) (*ivsapi.ListPlaybackKeyPairsResponse, error) {
	items, next, err := s.keyPairs.List(ctx, store.Query{}, in.NextToken, in.MaxResults, defaultKeyPairPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListPlaybackKeyPairsResponse{KeyPairs: make([]ivsapi.PlaybackKeyPairSummary, 0, len(items)), NextToken: next}
	for _, it := range items {
		out.KeyPairs = append(out.KeyPairs, ivsapi.PlaybackKeyPairSummary{
			Arn:  ptr(it.Rec.Key),
			Name: ptr(it.Doc.Name),
			Tags: control.TagsOf(it.Rec),
		})
	}
	return out, nil
}

// PlaybackPublicKeys returns every imported playback public key, for
// verifying viewer tokens of private channels.
func (s *Service) PlaybackPublicKeys(ctx context.Context) ([]*ecdsa.PublicKey, error) {
	page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindPlaybackKey})
	if err != nil {
		return nil, fmt.Errorf("list playback keys: %w", err)
	}
	keys := make([]*ecdsa.PublicKey, 0, len(page.Records))
	for _, rec := range page.Records {
		doc, err := control.Decode[keyPairDoc](rec)
		if err != nil {
			return nil, err
		}
		pub, err := auth.ParsePublicKeyPEM(doc.PublicKeyMaterial)
		if err != nil {
			return nil, fmt.Errorf("playback key %s: %w", rec.Key, err)
		}
		keys = append(keys, pub)
	}
	return keys, nil
}
