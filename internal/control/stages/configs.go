package stages

import (
	"context"
	"crypto/ecdsa"
	"fmt"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// maxEncoderPixels is IVS's limit on width×height (1920×1080 either way).
const maxEncoderPixels = 2073600

// createDoc stores a new resource with tags and a name attribute.
func createDoc[T any](ctx context.Context, st store.Store, kind store.Kind, arn string, doc *T, tags map[string]string, attrs ...store.Attr) (*store.Record, error) {
	rec, err := control.NewRecord(kind, arn, doc)
	if err != nil {
		return nil, err
	}
	rec.Tags = tags
	rec.Attrs = attrs
	if err := store.Create(ctx, st, rec); err != nil {
		return nil, fmt.Errorf("create %s: %w", kind, err)
	}
	return rec, nil
}

// CreateEncoderConfiguration implements rtapi.Service.
func (s *Service) CreateEncoderConfiguration(ctx context.Context, in *rtapi.CreateEncoderConfigurationRequest) (*rtapi.CreateEncoderConfigurationResponse, error) {
	v := rtapi.Video{}
	if in.Video != nil {
		v = *in.Video
	}
	if v.Width == nil {
		v.Width = ptr[int64](1280)
	}
	if v.Height == nil {
		v.Height = ptr[int64](720)
	}
	if v.Framerate == nil {
		v.Framerate = ptr(30.0)
	}
	if v.Bitrate == nil {
		v.Bitrate = ptr[int64](2500000)
	}
	if *v.Width%2 != 0 || *v.Height%2 != 0 {
		return nil, wire.Invalid("video", "width and height must be even numbers")
	}
	if *v.Width**v.Height > maxEncoderPixels {
		return nil, wire.Invalid("video", fmt.Sprintf("width x height must be at most %d pixels (1920x1080 or 1080x1920)", maxEncoderPixels))
	}
	if err := s.quota(ctx, store.KindEncoderConfiguration, "encoder configurations", MaxEncoderConfigurations); err != nil {
		return nil, err
	}
	arn := s.d.Identity.ARN("encoder-configuration", model.NewResourceID())
	doc := &rtapi.EncoderConfiguration{Arn: &arn, Name: str(deref(in.Name)), Video: &v}
	rec, err := createDoc(ctx, s.d.Store, store.KindEncoderConfiguration, arn, doc, in.Tags)
	if err != nil {
		return nil, err
	}
	doc.Tags = control.TagsOf(rec)
	return &rtapi.CreateEncoderConfigurationResponse{EncoderConfiguration: doc}, nil
}

// GetEncoderConfiguration implements rtapi.Service.
func (s *Service) GetEncoderConfiguration(ctx context.Context, in *rtapi.GetEncoderConfigurationRequest) (*rtapi.GetEncoderConfigurationResponse, error) {
	it, err := s.encoders.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.GetEncoderConfigurationResponse{EncoderConfiguration: it.Doc}, nil
}

// DeleteEncoderConfiguration implements rtapi.Service; 409 while a running
// composition uses it.
func (s *Service) DeleteEncoderConfiguration(ctx context.Context, in *rtapi.DeleteEncoderConfigurationRequest) (*rtapi.DeleteEncoderConfigurationResponse, error) {
	if _, err := s.encoders.Get(ctx, *in.Arn); err != nil {
		return nil, err
	}
	if err := s.refusedIfUsed(ctx, "encoderConfigurationArn", *in.Arn); err != nil {
		return nil, err
	}
	if err := store.Delete(ctx, s.d.Store, *in.Arn); err != nil {
		return nil, notFoundOr(err, *in.Arn)
	}
	return &rtapi.DeleteEncoderConfigurationResponse{}, nil
}

// ListEncoderConfigurations implements rtapi.Service.
func (s *Service) ListEncoderConfigurations(ctx context.Context, in *rtapi.ListEncoderConfigurationsRequest) (*rtapi.ListEncoderConfigurationsResponse, error) {
	items, next, err := s.encoders.List(ctx, store.Query{}, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListEncoderConfigurationsResponse{EncoderConfigurations: []rtapi.EncoderConfigurationSummary{}, NextToken: next}
	for _, it := range items {
		out.EncoderConfigurations = append(out.EncoderConfigurations, rtapi.EncoderConfigurationSummary{Arn: it.Doc.Arn, Name: it.Doc.Name, Tags: control.TagsOf(it.Rec)})
	}
	return out, nil
}

// CreateStorageConfiguration implements rtapi.Service.
func (s *Service) CreateStorageConfiguration(ctx context.Context, in *rtapi.CreateStorageConfigurationRequest) (*rtapi.CreateStorageConfigurationResponse, error) {
	if err := s.quota(ctx, store.KindStorageConfiguration, "storage configurations", MaxStorageConfigurations); err != nil {
		return nil, err
	}
	arn := s.d.Identity.ARN("storage-configuration", model.NewResourceID())
	doc := &rtapi.StorageConfiguration{Arn: &arn, Name: str(deref(in.Name)), S3: in.S3}
	rec, err := createDoc(ctx, s.d.Store, store.KindStorageConfiguration, arn, doc, in.Tags)
	if err != nil {
		return nil, err
	}
	doc.Tags = control.TagsOf(rec)
	return &rtapi.CreateStorageConfigurationResponse{StorageConfiguration: doc}, nil
}

// GetStorageConfiguration implements rtapi.Service.
func (s *Service) GetStorageConfiguration(ctx context.Context, in *rtapi.GetStorageConfigurationRequest) (*rtapi.GetStorageConfigurationResponse, error) {
	it, err := s.storages.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.GetStorageConfigurationResponse{StorageConfiguration: it.Doc}, nil
}

// DeleteStorageConfiguration implements rtapi.Service; 409 while a running
// composition or a stage's auto-recording uses it.
func (s *Service) DeleteStorageConfiguration(ctx context.Context, in *rtapi.DeleteStorageConfigurationRequest) (*rtapi.DeleteStorageConfigurationResponse, error) {
	if _, err := s.storages.Get(ctx, *in.Arn); err != nil {
		return nil, err
	}
	if err := s.refusedIfUsed(ctx, "storageConfigurationArn", *in.Arn); err != nil {
		return nil, err
	}
	stages, _, err := s.stages.List(ctx, store.Query{}, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		if c := st.Doc.Stage.AutoParticipantRecordingConfiguration; c != nil && deref(c.StorageConfigurationArn) == *in.Arn {
			return nil, model.Conflict("Storage configuration %s is used by stage %s for participant recording", *in.Arn, deref(st.Doc.Stage.Arn))
		}
	}
	if err := store.Delete(ctx, s.d.Store, *in.Arn); err != nil {
		return nil, notFoundOr(err, *in.Arn)
	}
	return &rtapi.DeleteStorageConfigurationResponse{}, nil
}

// ListStorageConfigurations implements rtapi.Service.
func (s *Service) ListStorageConfigurations(ctx context.Context, in *rtapi.ListStorageConfigurationsRequest) (*rtapi.ListStorageConfigurationsResponse, error) {
	items, next, err := s.storages.List(ctx, store.Query{}, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListStorageConfigurationsResponse{StorageConfigurations: []rtapi.StorageConfigurationSummary{}, NextToken: next}
	for _, it := range items {
		out.StorageConfigurations = append(out.StorageConfigurations, rtapi.StorageConfigurationSummary{Arn: it.Doc.Arn, Name: it.Doc.Name, S3: it.Doc.S3, Tags: control.TagsOf(it.Rec)})
	}
	return out, nil
}

// publicKeyDoc is a stored public key: the API shape plus nothing secret.
type publicKeyDoc = rtapi.PublicKey

// ImportPublicKey implements rtapi.Service.
func (s *Service) ImportPublicKey(ctx context.Context, in *rtapi.ImportPublicKeyRequest) (*rtapi.ImportPublicKeyResponse, error) {
	pub, err := auth.ParsePublicKeyPEM(*in.PublicKeyMaterial)
	if err != nil {
		return nil, wire.Invalid("publicKeyMaterial", err.Error())
	}
	fp := auth.Fingerprint(pub)
	if _, err := s.d.Store.GetByLookup(ctx, store.KindPublicKey, fp); err == nil {
		return nil, model.Conflict("A public key with fingerprint %s is already imported", fp)
	}
	if err := s.quota(ctx, store.KindPublicKey, "public keys", MaxPublicKeys); err != nil {
		return nil, err
	}
	arn := s.d.Identity.ARN("public-key", model.NewResourceID())
	doc := &publicKeyDoc{Arn: &arn, Name: str(deref(in.Name)), PublicKeyMaterial: in.PublicKeyMaterial, Fingerprint: &fp}
	rec, err := control.NewRecord(store.KindPublicKey, arn, doc)
	if err != nil {
		return nil, err
	}
	rec.Tags = in.Tags
	rec.Lookup = fp
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, fmt.Errorf("import public key: %w", err)
	}
	doc.Tags = control.TagsOf(rec)
	return &rtapi.ImportPublicKeyResponse{PublicKey: doc}, nil
}

// GetPublicKey implements rtapi.Service.
func (s *Service) GetPublicKey(ctx context.Context, in *rtapi.GetPublicKeyRequest) (*rtapi.GetPublicKeyResponse, error) {
	it, err := s.publicKeys.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.GetPublicKeyResponse{PublicKey: it.Doc}, nil
}

// DeletePublicKey implements rtapi.Service. Tokens signed with the key stop
// verifying at once.
func (s *Service) DeletePublicKey(ctx context.Context, in *rtapi.DeletePublicKeyRequest) (*rtapi.DeletePublicKeyResponse, error) {
	if _, err := s.publicKeys.Get(ctx, *in.Arn); err != nil {
		return nil, err
	}
	if err := store.Delete(ctx, s.d.Store, *in.Arn); err != nil {
		return nil, notFoundOr(err, *in.Arn)
	}
	return &rtapi.DeletePublicKeyResponse{}, nil
}

// ListPublicKeys implements rtapi.Service.
func (s *Service) ListPublicKeys(ctx context.Context, in *rtapi.ListPublicKeysRequest) (*rtapi.ListPublicKeysResponse, error) {
	items, next, err := s.publicKeys.List(ctx, store.Query{}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListPublicKeysResponse{PublicKeys: []rtapi.PublicKeySummary{}, NextToken: next}
	for _, it := range items {
		out.PublicKeys = append(out.PublicKeys, rtapi.PublicKeySummary{Arn: it.Doc.Arn, Name: it.Doc.Name, Tags: control.TagsOf(it.Rec)})
	}
	return out, nil
}

// importedKeys returns the imported public keys that may have signed a
// token: the one whose ARN is kid, or all of them when kid names none.
func (s *Service) importedKeys(ctx context.Context, kid string) ([]*ecdsa.PublicKey, error) {
	var docs []*publicKeyDoc
	if it, err := s.publicKeys.Get(ctx, kid); err == nil {
		docs = append(docs, it.Doc)
	} else {
		items, _, err := s.publicKeys.List(ctx, store.Query{}, nil, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			docs = append(docs, it.Doc)
		}
	}
	keys := make([]*ecdsa.PublicKey, 0, len(docs))
	for _, d := range docs {
		k, err := auth.ParsePublicKeyPEM(deref(d.PublicKeyMaterial))
		if err != nil {
			s.d.Logger().Warn("stored public key does not parse", "arn", deref(d.Arn), "err", err)
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}
