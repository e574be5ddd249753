package channels

import (
	"context"
	"slices"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// defaultThumbnailIntervalSeconds is the model's default
// thumbnailConfiguration.targetIntervalSeconds.
const defaultThumbnailIntervalSeconds = 60

// recordingDoc is a stored recording configuration: the API shape without
// arn and tags (those live on the record).
type recordingDoc struct {
	ivsapi.RecordingConfiguration
}

// CreateRecordingConfiguration implements ivsapi.Service. Defaults follow
// the model: thumbnails INTERVAL every 60 s stored SEQUENTIAL at source
// resolution, renditionSelection ALL, recordingReconnectWindowSeconds 0.
// The configuration is ACTIVE at once: it is usable by channels as soon as
// it exists.
func (s *Service) CreateRecordingConfiguration(ctx context.Context, in *ivsapi.CreateRecordingConfigurationRequest) (*ivsapi.CreateRecordingConfigurationResponse, error) {
	if in.DestinationConfiguration == nil || in.DestinationConfiguration.S3 == nil || str(in.DestinationConfiguration.S3.BucketName) == "" {
		return nil, wire.Invalid("destinationConfiguration.s3.bucketName", "Member must not be null")
	}
	thumb := thumbnailDefaults(in.ThumbnailConfiguration)
	rend, err := renditionDefaults(in.RenditionConfiguration)
	if err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, store.KindRecordingConfiguration, "", "recording configurations", MaxRecordingConfigurations); err != nil {
		return nil, err
	}
	doc := &recordingDoc{ivsapi.RecordingConfiguration{
		Name: ptr(str(in.Name)),
		DestinationConfiguration: &ivsapi.DestinationConfiguration{
			S3: &ivsapi.S3DestinationConfiguration{BucketName: ptr(str(in.DestinationConfiguration.S3.BucketName))},
		},
		State:                           ptr(ivsapi.RecordingConfigurationStateActive),
		ThumbnailConfiguration:          thumb,
		RenditionConfiguration:          rend,
		RecordingReconnectWindowSeconds: ptr(int64(0)),
	}}
	if in.RecordingReconnectWindowSeconds != nil {
		doc.RecordingReconnectWindowSeconds = ptr(*in.RecordingReconnectWindowSeconds)
	}
	arn := s.d.Identity.ARN(string(store.KindRecordingConfiguration), model.NewResourceID())
	rec, err := newRecord(store.KindRecordingConfiguration, arn, "", doc, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, err
	}
	return &ivsapi.CreateRecordingConfigurationResponse{RecordingConfiguration: recordingOut(rec, doc)}, nil
}

func thumbnailDefaults(in *ivsapi.ThumbnailConfiguration) *ivsapi.ThumbnailConfiguration {
	out := &ivsapi.ThumbnailConfiguration{}
	if in != nil {
		*out = *in
		out.Storage = slices.Clone(in.Storage)
	}
	if str(out.RecordingMode) == "" {
		out.RecordingMode = ptr(ivsapi.RecordingModeInterval)
	}
	if *out.RecordingMode == ivsapi.RecordingModeInterval && out.TargetIntervalSeconds == nil {
		out.TargetIntervalSeconds = ptr(int64(defaultThumbnailIntervalSeconds))
	}
	if len(out.Storage) == 0 {
		out.Storage = []string{ivsapi.ThumbnailConfigurationStorageSequential}
	}
	return out
}

func renditionDefaults(in *ivsapi.RenditionConfiguration) (*ivsapi.RenditionConfiguration, error) {
	out := &ivsapi.RenditionConfiguration{}
	if in != nil {
		*out = *in
		out.Renditions = slices.Clone(in.Renditions)
	}
	if str(out.RenditionSelection) == "" {
		out.RenditionSelection = ptr(ivsapi.RenditionConfigurationRenditionSelectionAll)
	}
	if *out.RenditionSelection == ivsapi.RenditionConfigurationRenditionSelectionCustom && len(out.Renditions) == 0 {
		return nil, wire.Invalid("renditionConfiguration.renditions", "renditions must be set when renditionSelection is CUSTOM")
	}
	if out.Renditions == nil {
		out.Renditions = []string{}
	}
	return out, nil
}

func recordingOut(rec *store.Record, doc *recordingDoc) *ivsapi.RecordingConfiguration {
	out := doc.RecordingConfiguration
	out.Arn = ptr(rec.Key)
	out.Tags = control.TagsOf(rec)
	return &out
}

// GetRecordingConfiguration implements ivsapi.Service.
func (s *Service) GetRecordingConfiguration(ctx context.Context, in *ivsapi.GetRecordingConfigurationRequest) (*ivsapi.GetRecordingConfigurationResponse, error) {
	it, err := s.recordings.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetRecordingConfigurationResponse{RecordingConfiguration: recordingOut(it.Rec, it.Doc)}, nil
}

// DeleteRecordingConfiguration implements ivsapi.Service: ConflictException
// while a channel references it.
func (s *Service) DeleteRecordingConfiguration(ctx context.Context, in *ivsapi.DeleteRecordingConfigurationRequest) error {
	arn := str(in.Arn)
	return s.deleteGuarded(ctx, store.KindRecordingConfiguration, arn, s.referencedBy(attrRecording, arn, "Recording configuration"))
}

// ListRecordingConfigurations implements ivsapi.Service.
func (s *Service) ListRecordingConfigurations(ctx context.Context, in *ivsapi.ListRecordingConfigurationsRequest) (*ivsapi.ListRecordingConfigurationsResponse, error) {
	items, next, err := s.recordings.List(ctx, store.Query{}, in.NextToken, in.MaxResults, defaultRecordingPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListRecordingConfigurationsResponse{
		RecordingConfigurations: make([]ivsapi.RecordingConfigurationSummary, 0, len(items)),
		NextToken:               next,
	}
	for _, it := range items {
		out.RecordingConfigurations = append(out.RecordingConfigurations, ivsapi.RecordingConfigurationSummary{
			Arn:                      ptr(it.Rec.Key),
			Name:                     it.Doc.Name,
			DestinationConfiguration: it.Doc.DestinationConfiguration,
			State:                    it.Doc.State,
			Tags:                     control.TagsOf(it.Rec),
		})
	}
	return out, nil
}
