package channels

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// revocationDoc is a stored viewer-session revocation (kind
// viewer-revocation, Parent = the channel ARN): playback tokens of the
// channel carrying aws:viewer-id = ViewerID and aws:viewer-session-version
// <= VersionsLessThanOrEqualTo are refused.
type revocationDoc struct {
	ViewerID                  string `json:"viewerId"`
	VersionsLessThanOrEqualTo int64  `json:"versionsLessThanOrEqualTo"`
}

// revocationKey is the store key of a viewer's revocation on a channel.
func revocationKey(channelARN, viewerID string) string {
	return channelARN + "/viewer-revocation/" + viewerID
}

// revoke records the revocation. Revocations only grow: a later call with
// a lower version keeps the higher one.
func (s *Service) revoke(ctx context.Context, channelARN, viewerID string, version int64) error {
	if viewerID == "" {
		return wire.Invalid("viewerId", "Member must have length greater than or equal to 1")
	}
	key := revocationKey(channelARN, viewerID)
	for range maxAttempts {
		ch, err := s.channels.Get(ctx, channelARN)
		if err != nil {
			return err
		}
		var op store.Op
		it, err := s.revocations.Get(ctx, key)
		var nf *model.NotFoundError
		switch {
		case errors.As(err, &nf):
			rec, err := newRecord(store.KindViewerRevocation, key, channelARN, &revocationDoc{ViewerID: viewerID, VersionsLessThanOrEqualTo: version}, nil)
			if err != nil {
				return err
			}
			op = store.Op{Type: store.OpCreate, Record: rec}
		case err != nil:
			return err
		case it.Doc.VersionsLessThanOrEqualTo >= version:
			return nil
		default:
			it.Doc.VersionsLessThanOrEqualTo = version
			if err := control.Encode(it.Rec, it.Doc); err != nil {
				return err
			}
			op = store.Op{Type: store.OpUpdate, Record: it.Rec}
		}
		// The guard on the channel keeps a revocation from outliving a
		// channel deleted meanwhile.
		err = s.d.Store.Apply(ctx, guard(ch.Rec), op)
		if err == nil || !retryable(err) {
			return err
		}
	}
	return busy(key)
}

// StartViewerSessionRevocation implements ivsapi.Service. The revocation is
// persisted at once; the playback side enforces it (RevokedViewerVersion).
func (s *Service) StartViewerSessionRevocation(ctx context.Context, in *ivsapi.StartViewerSessionRevocationRequest) (*ivsapi.StartViewerSessionRevocationResponse, error) {
	var version int64
	if in.ViewerSessionVersionsLessThanOrEqualTo != nil {
		version = *in.ViewerSessionVersionsLessThanOrEqualTo
	}
	if err := s.revoke(ctx, str(in.ChannelArn), str(in.ViewerId), version); err != nil {
		return nil, err
	}
	return &ivsapi.StartViewerSessionRevocationResponse{}, nil
}

// BatchStartViewerSessionRevocation implements ivsapi.Service. Pairs whose
// channel does not exist are reported in errors.
func (s *Service) BatchStartViewerSessionRevocation(ctx context.Context, in *ivsapi.BatchStartViewerSessionRevocationRequest) (*ivsapi.BatchStartViewerSessionRevocationResponse, error) {
	out := &ivsapi.BatchStartViewerSessionRevocationResponse{Errors: []ivsapi.BatchStartViewerSessionRevocationError{}}
	for _, vs := range in.ViewerSessions {
		var version int64
		if vs.ViewerSessionVersionsLessThanOrEqualTo != nil {
			version = *vs.ViewerSessionVersionsLessThanOrEqualTo
		}
		err := s.revoke(ctx, str(vs.ChannelArn), str(vs.ViewerId), version)
		if err == nil {
			continue
		}
		var nf *model.NotFoundError
		var cf *model.ConflictError
		code := ""
		switch {
		case errors.As(err, &nf):
			code = "ResourceNotFoundException"
		case errors.As(err, &cf):
			code = "ConflictException"
		default:
			return nil, err
		}
		out.Errors = append(out.Errors, ivsapi.BatchStartViewerSessionRevocationError{
			ChannelArn: ptr(str(vs.ChannelArn)),
			ViewerId:   ptr(str(vs.ViewerId)),
			Code:       ptr(code),
			Message:    ptr(err.Error()),
		})
	}
	return out, nil
}

// RevokedViewerVersion returns the highest revoked viewer-session version
// of the viewer on the channel, and whether any revocation exists.
func (s *Service) RevokedViewerVersion(ctx context.Context, channelARN, viewerID string) (int64, bool, error) {
	it, err := s.revocations.Get(ctx, revocationKey(channelARN, viewerID))
	var nf *model.NotFoundError
	if errors.As(err, &nf) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("viewer revocation: %w", err)
	}
	return it.Doc.VersionsLessThanOrEqualTo, true, nil
}
