package channels

import (
	"cmp"
	"context"
	"errors"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// srtPassphraseLen is the length of generated SRT passphrases: 64 base62
// characters (~380 bits), within SRT's 10..79 character limit.
const srtPassphraseLen = 64

// Attribute names indexed on channel records (ListChannels filters and the
// "still referenced" checks of the deletes).
const (
	attrName        = "name"
	attrRecording   = "recordingConfigurationArn"
	attrRestriction = "playbackRestrictionPolicyArn"
	attrAdConfig    = "adConfigurationArn"
)

// Multitrack defaults shown when a channel has no multitrack configuration
// (the values IVS itself returns).
const (
	defaultMultitrackPolicy     = ivsapi.MultitrackPolicyAllow
	defaultMultitrackResolution = ivsapi.MultitrackMaximumResolutionFullHd
)

// channelDoc is the stored channel. Endpoints and URLs are not stored: they
// are derived from the server identity when the channel is shown.
type channelDoc struct {
	Name                         string        `json:"name"`
	LatencyMode                  string        `json:"latencyMode"`
	Type                         string        `json:"type"`
	Authorized                   bool          `json:"authorized"`
	InsecureIngest               bool          `json:"insecureIngest"`
	RecordingConfigurationArn    string        `json:"recordingConfigurationArn"`
	PlaybackRestrictionPolicyArn string        `json:"playbackRestrictionPolicyArn"`
	AdConfigurationArn           string        `json:"adConfigurationArn"`
	Preset                       string        `json:"preset"`
	ContainerFormat              string        `json:"containerFormat"`
	Multitrack                   multitrackDoc `json:"multitrack"`
	SRTPassphrase                string        `json:"srtPassphrase"`
}

type multitrackDoc struct {
	Enabled           bool   `json:"enabled"`
	Policy            string `json:"policy,omitempty"`
	MaximumResolution string `json:"maximumResolution,omitempty"`
}

func multitrackFrom(m *ivsapi.MultitrackInputConfiguration) multitrackDoc {
	return multitrackDoc{
		Enabled:           m.Enabled != nil && *m.Enabled,
		Policy:            str(m.Policy),
		MaximumResolution: str(m.MaximumResolution),
	}
}

// checkChannel enforces the documented cross-field rules and fills the
// type-dependent defaults. presetGiven says whether the request set preset.
func checkChannel(doc *channelDoc, presetGiven bool) error {
	advanced := doc.Type == ivsapi.ChannelTypeAdvancedSd || doc.Type == ivsapi.ChannelTypeAdvancedHd
	switch {
	case presetGiven && doc.Preset != "" && !advanced:
		return wire.Invalid("preset", "preset is selectable only for channel types ADVANCED_SD and ADVANCED_HD")
	case !advanced:
		doc.Preset = ""
	case doc.Preset == "":
		doc.Preset = ivsapi.TranscodePresetHigherBandwidthDelivery
	}
	if m := doc.Multitrack; m.Enabled {
		if doc.Type != ivsapi.ChannelTypeStandard {
			return wire.Invalid("multitrackInputConfiguration.enabled", "multitrack input can be enabled only for channel type STANDARD")
		}
		if m.Policy == "" {
			return wire.Invalid("multitrackInputConfiguration.policy", "policy is required when multitrack input is enabled")
		}
		if m.MaximumResolution == "" {
			return wire.Invalid("multitrackInputConfiguration.maximumResolution", "maximumResolution is required when multitrack input is enabled")
		}
		if doc.ContainerFormat != ivsapi.ContainerFormatFragmentedMp4 {
			return wire.Invalid("containerFormat", "containerFormat must be FRAGMENTED_MP4 when multitrack input is enabled")
		}
	}
	return nil
}

func channelAttrs(doc *channelDoc) []store.Attr {
	var attrs []store.Attr
	add := func(name, v string) {
		if v != "" {
			attrs = append(attrs, store.Attr{Name: name, Value: v})
		}
	}
	add(attrName, doc.Name)
	add(attrRecording, doc.RecordingConfigurationArn)
	add(attrRestriction, doc.PlaybackRestrictionPolicyArn)
	add(attrAdConfig, doc.AdConfigurationArn)
	return attrs
}

// refGuards checks that every resource the channel references exists and
// returns guards for them (see guard).
func (s *Service) refGuards(ctx context.Context, doc *channelDoc) ([]store.Op, error) {
	refs := []struct {
		arn  string
		kind store.Kind
	}{
		{doc.RecordingConfigurationArn, store.KindRecordingConfiguration},
		{doc.PlaybackRestrictionPolicyArn, store.KindPlaybackRestrictionPolicy},
		{doc.AdConfigurationArn, store.KindAdConfiguration},
	}
	var ops []store.Op
	for _, r := range refs {
		if r.arn == "" {
			continue
		}
		rec, err := s.d.Store.Get(ctx, r.arn)
		if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Kind != r.kind) {
			return nil, model.NotFound(r.arn)
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, guard(rec))
	}
	return ops, nil
}

// channelOut renders a stored channel as the API shows it.
func (s *Service) channelOut(rec *store.Record, doc *channelDoc) *ivsapi.Channel {
	id := model.ResourceID(rec.Key)
	srt := &ivsapi.Srt{Endpoint: ptr(s.d.Identity.SRTEndpoint())}
	if !doc.InsecureIngest {
		srt.Passphrase = ptr(doc.SRTPassphrase)
	}
	return &ivsapi.Channel{
		Arn:                          ptr(rec.Key),
		Name:                         ptr(doc.Name),
		LatencyMode:                  ptr(doc.LatencyMode),
		Type:                         ptr(doc.Type),
		Authorized:                   ptr(doc.Authorized),
		InsecureIngest:               ptr(doc.InsecureIngest),
		RecordingConfigurationArn:    ptr(doc.RecordingConfigurationArn),
		PlaybackRestrictionPolicyArn: ptr(doc.PlaybackRestrictionPolicyArn),
		AdConfigurationArn:           ptr(doc.AdConfigurationArn),
		Preset:                       ptr(doc.Preset),
		ContainerFormat:              ptr(doc.ContainerFormat),
		IngestEndpoint:               ptr(s.d.Identity.IngestEndpoint()),
		PlaybackUrl:                  ptr(s.d.Identity.PlaybackURL(id)),
		Srt:                          srt,
		MultitrackInputConfiguration: &ivsapi.MultitrackInputConfiguration{
			Enabled:           ptr(doc.Multitrack.Enabled),
			Policy:            ptr(cmp.Or(doc.Multitrack.Policy, defaultMultitrackPolicy)),
			MaximumResolution: ptr(cmp.Or(doc.Multitrack.MaximumResolution, defaultMultitrackResolution)),
		},
		Tags: control.TagsOf(rec),
	}
}

func channelSummary(rec *store.Record, doc *channelDoc) ivsapi.ChannelSummary {
	return ivsapi.ChannelSummary{
		Arn:                          ptr(rec.Key),
		Name:                         ptr(doc.Name),
		LatencyMode:                  ptr(doc.LatencyMode),
		Type:                         ptr(doc.Type),
		Authorized:                   ptr(doc.Authorized),
		InsecureIngest:               ptr(doc.InsecureIngest),
		RecordingConfigurationArn:    ptr(doc.RecordingConfigurationArn),
		PlaybackRestrictionPolicyArn: ptr(doc.PlaybackRestrictionPolicyArn),
		AdConfigurationArn:           ptr(doc.AdConfigurationArn),
		Preset:                       ptr(doc.Preset),
		Tags:                         control.TagsOf(rec),
	}
}

// CreateChannel implements ivsapi.Service. The channel and its stream key
// are written in one atomic Apply.
func (s *Service) CreateChannel(ctx context.Context, in *ivsapi.CreateChannelRequest) (*ivsapi.CreateChannelResponse, error) {
	doc := &channelDoc{
		Name:                         str(in.Name),
		LatencyMode:                  orDefault(in.LatencyMode, ivsapi.ChannelLatencyModeLow),
		Type:                         orDefault(in.Type, ivsapi.ChannelTypeStandard),
		Authorized:                   in.Authorized != nil && *in.Authorized,
		InsecureIngest:               in.InsecureIngest != nil && *in.InsecureIngest,
		RecordingConfigurationArn:    str(in.RecordingConfigurationArn),
		PlaybackRestrictionPolicyArn: str(in.PlaybackRestrictionPolicyArn),
		AdConfigurationArn:           str(in.AdConfigurationArn),
		Preset:                       str(in.Preset),
		ContainerFormat:              orDefault(in.ContainerFormat, ivsapi.ContainerFormatTs),
		SRTPassphrase:                auth.RandomString(srtPassphraseLen, auth.Base62),
	}
	if in.MultitrackInputConfiguration != nil {
		doc.Multitrack = multitrackFrom(in.MultitrackInputConfiguration)
	}
	if err := checkChannel(doc, in.Preset != nil); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, store.KindChannel, "", "channels", MaxChannels); err != nil {
		return nil, err
	}
	for range maxAttempts {
		guards, err := s.refGuards(ctx, doc)
		if err != nil {
			return nil, err
		}
		arn := s.d.Identity.ARN(string(store.KindChannel), model.NewResourceID())
		rec, err := newRecord(store.KindChannel, arn, "", doc, in.Tags)
		if err != nil {
			return nil, err
		}
		rec.Attrs = channelAttrs(doc)
		keyRec, keyDoc, err := s.newStreamKeyRecord(arn, nil)
		if err != nil {
			return nil, err
		}
		ops := append([]store.Op{{Type: store.OpCreate, Record: rec}, {Type: store.OpCreate, Record: keyRec}}, guards...)
		err = s.d.Store.Apply(ctx, ops...)
		if err == nil {
			return &ivsapi.CreateChannelResponse{
				Channel:   s.channelOut(rec, doc),
				StreamKey: streamKeyOut(keyRec, keyDoc),
			}, nil
		}
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, busy("channel")
}

// GetChannel implements ivsapi.Service.
func (s *Service) GetChannel(ctx context.Context, in *ivsapi.GetChannelRequest) (*ivsapi.GetChannelResponse, error) {
	it, err := s.channels.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetChannelResponse{Channel: s.channelOut(it.Rec, it.Doc)}, nil
}

// BatchGetChannel implements ivsapi.Service. Missing channels are reported
// in errors; the call itself succeeds.
func (s *Service) BatchGetChannel(ctx context.Context, in *ivsapi.BatchGetChannelRequest) (*ivsapi.BatchGetChannelResponse, error) {
	out := &ivsapi.BatchGetChannelResponse{Channels: []ivsapi.Channel{}, Errors: []ivsapi.BatchError{}}
	seen := make(map[string]bool, len(in.Arns))
	for _, arn := range in.Arns {
		if seen[arn] {
			continue
		}
		seen[arn] = true
		it, err := s.channels.Get(ctx, arn)
		if be, ok := batchError(arn, err); ok {
			out.Errors = append(out.Errors, be)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Channels = append(out.Channels, *s.channelOut(it.Rec, it.Doc))
	}
	return out, nil
}

// batchError turns a not-found error into a BatchError entry.
func batchError(arn string, err error) (ivsapi.BatchError, bool) {
	var nf *model.NotFoundError
	if !errors.As(err, &nf) {
		return ivsapi.BatchError{}, false
	}
	return ivsapi.BatchError{Arn: ptr(arn), Code: ptr("ResourceNotFoundException"), Message: ptr(nf.Error())}, true
}

// UpdateChannel implements ivsapi.Service. Absent members keep their value;
// a live channel cannot be updated (ConflictException).
func (s *Service) UpdateChannel(ctx context.Context, in *ivsapi.UpdateChannelRequest) (*ivsapi.UpdateChannelResponse, error) {
	arn := str(in.Arn)
	for range maxAttempts {
		it, err := s.channels.Get(ctx, arn)
		if err != nil {
			return nil, err
		}
		if s.isLive(arn) {
			return nil, model.Conflict("Channel %s is live; stop the stream before updating it", arn)
		}
		doc := it.Doc
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&doc.Name, in.Name)
		set(&doc.LatencyMode, in.LatencyMode)
		set(&doc.Type, in.Type)
		set(&doc.RecordingConfigurationArn, in.RecordingConfigurationArn)
		set(&doc.PlaybackRestrictionPolicyArn, in.PlaybackRestrictionPolicyArn)
		set(&doc.AdConfigurationArn, in.AdConfigurationArn)
		set(&doc.Preset, in.Preset)
		set(&doc.ContainerFormat, in.ContainerFormat)
		if in.Authorized != nil {
			doc.Authorized = *in.Authorized
		}
		if in.InsecureIngest != nil {
			doc.InsecureIngest = *in.InsecureIngest
		}
		if in.MultitrackInputConfiguration != nil {
			doc.Multitrack = multitrackFrom(in.MultitrackInputConfiguration)
		}
		if doc.SRTPassphrase == "" {
			doc.SRTPassphrase = auth.RandomString(srtPassphraseLen, auth.Base62)
		}
		if err := checkChannel(doc, in.Preset != nil); err != nil {
			return nil, err
		}
		guards, err := s.refGuards(ctx, doc)
		if err != nil {
			return nil, err
		}
		rec := it.Rec
		if err := control.Encode(rec, doc); err != nil {
			return nil, err
		}
		rec.Attrs = channelAttrs(doc)
		err = s.d.Store.Apply(ctx, append([]store.Op{{Type: store.OpUpdate, Record: rec}}, guards...)...)
		if err == nil {
			return &ivsapi.UpdateChannelResponse{Channel: s.channelOut(rec, doc)}, nil
		}
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, busy(arn)
}

// DeleteChannel implements ivsapi.Service. Stream keys, stream sessions and
// viewer revocations go with the channel (they are its children).
func (s *Service) DeleteChannel(ctx context.Context, in *ivsapi.DeleteChannelRequest) error {
	arn := str(in.Arn)
	if _, err := s.channels.Get(ctx, arn); err != nil {
		return err
	}
	if s.isLive(arn) {
		return model.Conflict("Channel %s is live; stop the stream before deleting it", arn)
	}
	err := store.Delete(ctx, s.d.Store, arn)
	if errors.Is(err, store.ErrNotFound) {
		return model.NotFound(arn)
	}
	return err
}

// ListChannels implements ivsapi.Service. The filters are mutually
// exclusive (ConflictException when more than one is set); an empty filter
// value counts as unset. filterByName matches the exact name.
func (s *Service) ListChannels(ctx context.Context, in *ivsapi.ListChannelsRequest) (*ivsapi.ListChannelsResponse, error) {
	var attrs []store.Attr
	for _, f := range []struct {
		name string
		v    *string
	}{
		{attrName, in.FilterByName},
		{attrRecording, in.FilterByRecordingConfigurationArn},
		{attrRestriction, in.FilterByPlaybackRestrictionPolicyArn},
		{attrAdConfig, in.FilterByAdConfigurationArn},
	} {
		if v := str(f.v); v != "" {
			attrs = append(attrs, store.Attr{Name: f.name, Value: v})
		}
	}
	if len(attrs) > 1 {
		return nil, model.Conflict("ListChannels filters are mutually exclusive; use at most one")
	}
	items, next, err := s.channels.List(ctx, store.Query{Attrs: attrs}, in.NextToken, in.MaxResults, defaultChannelPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListChannelsResponse{Channels: make([]ivsapi.ChannelSummary, 0, len(items)), NextToken: next}
	for _, it := range items {
		out.Channels = append(out.Channels, channelSummary(it.Rec, it.Doc))
	}
	return out, nil
}
