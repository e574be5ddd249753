package live

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

// ErrForbidden is what Access.Authorize returns (wrapped with the reason)
// for a playback request that must get 403.
var ErrForbidden = errors.New("playback forbidden")

// accessTTL bounds how stale a cached channel, policy or key list may be.
const accessTTL = time.Second

// maxCachedTokens bounds the verified-token cache; it is cleared when full.
const maxCachedTokens = 50_000

// AccessChannels is what playback authorization reads from the ivs service
// (*channels.Service satisfies it).
type AccessChannels interface {
	GetChannel(ctx context.Context, in *ivsapi.GetChannelRequest) (*ivsapi.GetChannelResponse, error)
	GetPlaybackRestrictionPolicy(ctx context.Context, in *ivsapi.GetPlaybackRestrictionPolicyRequest) (*ivsapi.GetPlaybackRestrictionPolicyResponse, error)
	PlaybackPublicKeys(ctx context.Context) ([]*ecdsa.PublicKey, error)
	RevokedViewerVersion(ctx context.Context, channelARN, viewerID string) (int64, bool, error)
}

// Access decides whether a playback request may be served: private
// channels (authorized: true) need a valid ES384 playback token in
// ?token= (signature by an imported playback key pair, channel, expiry,
// origin claims, viewer revocation), and a channel's playback restriction
// policy limits the allowed origins. Verified tokens and channel settings
// are cached briefly so that thousands of viewers' playlist reloads cost a
// map lookup, not a P-384 verification each.
type Access struct {
	ch  AccessChannels
	now func() time.Time

	mu       sync.Mutex
	channels map[string]cachedChannel
	keys     []*ecdsa.PublicKey
	keysAt   time.Time
	tokens   map[[32]byte]auth.PlaybackClaims
}

type cachedChannel struct {
	at         time.Time
	authorized bool
	policy     *ivsapi.PlaybackRestrictionPolicy
}

// NewAccess returns the playback policy over ch.
func NewAccess(ch AccessChannels, now func() time.Time) *Access {
	if now == nil {
		now = time.Now
	}
	return &Access{ch: ch, now: now, channels: map[string]cachedChannel{}, tokens: map[[32]byte]auth.PlaybackClaims{}}
}

// Authorize returns nil when r may be served for channelARN, else an error
// wrapping ErrForbidden whose text says why (safe to show the viewer).
func (a *Access) Authorize(r *http.Request, channelARN string) error {
	ctx := r.Context()
	cc, err := a.channel(ctx, channelARN)
	if err != nil {
		return err
	}
	origin := r.Header.Get("Origin")
	if p := cc.policy; p != nil && origin != "" && len(p.AllowedOrigins) > 0 && !originListed(p.AllowedOrigins, origin) {
		return fmt.Errorf("%w: origin %s is not allowed by the channel's playback restriction policy", ErrForbidden, origin)
	}
	if !cc.authorized {
		return nil
	}
	token := r.URL.Query().Get("token")
	if token == "" {
		return fmt.Errorf("%w: this channel is private: a playback token is required (?token=)", ErrForbidden)
	}
	claims, err := a.verify(ctx, token, channelARN)
	if err != nil {
		return err
	}
	if claims.AllowOrigin != "" && origin != "" && !claims.OriginAllowed(origin) {
		return fmt.Errorf("%w: origin %s is not allowed by the token", ErrForbidden, origin)
	}
	if claims.StrictOriginEnforcement && origin == "" {
		return fmt.Errorf("%w: the token requires an Origin header", ErrForbidden)
	}
	if claims.ViewerID != "" {
		v, ok, err := a.ch.RevokedViewerVersion(ctx, channelARN, claims.ViewerID)
		if err != nil {
			return err
		}
		if ok && claims.ViewerSessionVersion <= v {
			return fmt.Errorf("%w: the viewer session was revoked", ErrForbidden)
		}
	}
	return nil
}

func (a *Access) verify(ctx context.Context, token, channelARN string) (auth.PlaybackClaims, error) {
	sum := sha256.Sum256([]byte(channelARN + "\x00" + token))
	now := a.now()
	a.mu.Lock()
	c, ok := a.tokens[sum]
	a.mu.Unlock()
	if ok {
		if !now.Before(c.ExpiresAt) {
			return c, fmt.Errorf("%w: the playback token expired", ErrForbidden)
		}
		return c, nil
	}
	keys, err := a.publicKeys(ctx)
	if err != nil {
		return c, err
	}
	if len(keys) == 0 {
		return c, fmt.Errorf("%w: no playback key pair is imported, so no token can be valid", ErrForbidden)
	}
	c, err = auth.VerifyPlayback(token, channelARN, keys, now)
	if err != nil {
		return c, fmt.Errorf("%w: invalid playback token: %v", ErrForbidden, err)
	}
	a.mu.Lock()
	if len(a.tokens) >= maxCachedTokens {
		clear(a.tokens)
	}
	a.tokens[sum] = c
	a.mu.Unlock()
	return c, nil
}

func (a *Access) publicKeys(ctx context.Context) ([]*ecdsa.PublicKey, error) {
	now := a.now()
	a.mu.Lock()
	if now.Sub(a.keysAt) < accessTTL {
		k := a.keys
		a.mu.Unlock()
		return k, nil
	}
	a.mu.Unlock()
	keys, err := a.ch.PlaybackPublicKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("playback keys: %w", err)
	}
	a.mu.Lock()
	a.keys, a.keysAt = keys, now
	a.mu.Unlock()
	return keys, nil
}

func (a *Access) channel(ctx context.Context, arn string) (cachedChannel, error) {
	now := a.now()
	a.mu.Lock()
	cc, ok := a.channels[arn]
	a.mu.Unlock()
	if ok && now.Sub(cc.at) < accessTTL {
		return cc, nil
	}
	out, err := a.ch.GetChannel(ctx, &ivsapi.GetChannelRequest{Arn: &arn})
	if err != nil {
		return cc, err
	}
	cc = cachedChannel{at: now, authorized: out.Channel.Authorized != nil && *out.Channel.Authorized}
	if p := deref(out.Channel.PlaybackRestrictionPolicyArn); p != "" {
		pol, err := a.ch.GetPlaybackRestrictionPolicy(ctx, &ivsapi.GetPlaybackRestrictionPolicyRequest{Arn: &p})
		if err == nil {
			cc.policy = pol.PlaybackRestrictionPolicy
		}
	}
	a.mu.Lock()
	if len(a.channels) > maxCachedTokens {
		clear(a.channels)
	}
	a.channels[arn] = cc
	a.mu.Unlock()
	return cc, nil
}

// originListed matches an Origin against a policy's allowed origins ("*"
// allows any; entries compare case-insensitively).
func originListed(allowed []string, origin string) bool {
	for _, o := range allowed {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
