package stages

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// Token duration limits in minutes (CreateParticipantToken.duration).
const (
	defaultTokenMinutes = 720
	maxTokenMinutes     = 20160
)

// CreateParticipantToken implements rtapi.Service. It does not write to the
// store: a token becomes a participant only when it joins.
func (s *Service) CreateParticipantToken(ctx context.Context, in *rtapi.CreateParticipantTokenRequest) (*rtapi.CreateParticipantTokenResponse, error) {
	tok, err := s.mint(ctx, *in.StageArn, in.Duration, in.UserId, in.Attributes, in.Capabilities, "")
	if err != nil {
		return nil, err
	}
	return &rtapi.CreateParticipantTokenResponse{ParticipantToken: tok}, nil
}

func (s *Service) mint(ctx context.Context, stageARN string, duration *int64, userID *string, attrs map[string]string, caps []string, field string) (*rtapi.ParticipantToken, error) {
	at := func(m string) string {
		if field == "" {
			return m
		}
		return field + "." + m
	}
	minutes := int64(defaultTokenMinutes)
	if duration != nil {
		minutes = *duration
	}
	if minutes < 1 || minutes > maxTokenMinutes {
		return nil, wire.Invalid(at("duration"), fmt.Sprintf("Member must be between 1 and %d minutes", maxTokenMinutes))
	}
	if n := auth.AttributesSize(attrs); n > auth.MaxAttributesBytes {
		return nil, wire.Invalid(at("attributes"), fmt.Sprintf("Total size of attribute keys and values is %d bytes; the limit is %d", n, auth.MaxAttributesBytes))
	}
	if caps == nil {
		caps = []string{rtapi.ParticipantTokenCapabilityPublish, rtapi.ParticipantTokenCapabilitySubscribe}
	}
	c, err := s.signer(ctx, stageARN)
	if err != nil {
		return nil, err
	}
	now := s.d.Clock().Truncate(time.Second)
	claims := auth.ParticipantClaims{
		ParticipantID: model.NewResourceID(),
		StageARN:      stageARN,
		StageID:       c.stageID,
		EventsURL:     s.d.Identity.EventsURL(),
		WhipURL:       s.d.Identity.WhipURL(),
		UserID:        deref(userID),
		Attributes:    attrs,
		IssuedAt:      now,
		ExpiresAt:     now.Add(time.Duration(minutes) * time.Minute),
	}
	for _, cp := range caps {
		switch cp {
		case rtapi.ParticipantTokenCapabilityPublish:
			claims.Publish = true
		case rtapi.ParticipantTokenCapabilitySubscribe:
			claims.Subscribe = true
		}
	}
	token, err := c.signer.MintParticipant(claims)
	if err != nil {
		return nil, fmt.Errorf("mint token for %s: %w", stageARN, err)
	}
	exp := claims.ExpiresAt
	out := &rtapi.ParticipantToken{
		ParticipantId:  &claims.ParticipantID,
		Token:          &token,
		Duration:       &minutes,
		Capabilities:   caps,
		ExpirationTime: &exp,
		Attributes:     attrs,
	}
	if userID != nil {
		out.UserId = userID
	}
	return out, nil
}

// Token verification errors.
var (
	// ErrRevoked: the participant was disconnected with
	// DisconnectParticipant and may not rejoin.
	ErrRevoked = errors.New("participant token revoked")
)

func revokedKey(stageARN, participantID string) string {
	return stageARN + "/revoked/" + participantID
}

// VerifyToken checks a participant token for media servers: signature (the
// stage's own key, or any key imported with ImportPublicKey), expiry, that
// the stage exists, and that the participant was not disconnected. It
// returns the token's claims.
func (s *Service) VerifyToken(ctx context.Context, token string) (auth.ParticipantClaims, error) {
	resolve := func(kid string) ([]*ecdsa.PublicKey, error) {
		if arn, ok := strings.CutSuffix(kid, "#signing"); ok {
			c, err := s.signer(ctx, arn)
			if err != nil {
				return nil, err
			}
			return []*ecdsa.PublicKey{c.pub}, nil
		}
		return s.importedKeys(ctx, kid)
	}
	claims, err := auth.VerifyParticipant(token, resolve, s.d.Clock())
	if err != nil {
		return auth.ParticipantClaims{}, err
	}
	if _, err := s.stages.Get(ctx, claims.StageARN); err != nil {
		return auth.ParticipantClaims{}, err
	}
	if claims.StageID == "" {
		claims.StageID = model.ResourceID(claims.StageARN)
	}
	if _, err := s.d.Store.Get(ctx, revokedKey(claims.StageARN, claims.ParticipantID)); err == nil {
		return auth.ParticipantClaims{}, fmt.Errorf("participant %s: %w", claims.ParticipantID, ErrRevoked)
	} else if !errors.Is(err, store.ErrNotFound) {
		return auth.ParticipantClaims{}, err
	}
	return claims, nil
}

// DisconnectParticipant implements rtapi.Service: it revokes the
// participant id permanently on that stage and, when an SFU is attached,
// drops its connection.
func (s *Service) DisconnectParticipant(ctx context.Context, in *rtapi.DisconnectParticipantRequest) (*rtapi.DisconnectParticipantResponse, error) {
	if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
		return nil, err
	}
	doc := map[string]string{"participantId": *in.ParticipantId, "reason": deref(in.Reason), "time": s.d.Clock().Format(time.RFC3339)}
	rec, err := newMapRecord(store.KindRevokedParticipant, revokedKey(*in.StageArn, *in.ParticipantId), doc)
	if err != nil {
		return nil, err
	}
	rec.Parent = *in.StageArn
	if err := s.d.Store.Apply(ctx, store.Op{Type: store.OpPut, Record: rec}); err != nil {
		return nil, fmt.Errorf("revoke participant: %w", err)
	}
	if _, media := s.attached(); media != nil {
		if err := media.Disconnect(ctx, *in.StageArn, *in.ParticipantId, deref(in.Reason)); err != nil {
			return nil, err
		}
	}
	return &rtapi.DisconnectParticipantResponse{}, nil
}
