package auth_test

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stagecast/stagecast/internal/auth"
)

const testStageARN = "arn:aws:ivs:us-west-2:123456789012:stage/AbCdEf123456"

func sampleClaims() auth.ParticipantClaims {
	return auth.ParticipantClaims{
		ParticipantID: "pQ7xYz123",
		StageARN:      testStageARN,
		StageID:       "AbCdEf123456",
		EventsURL:     "wss://global.events.live-video.net",
		WhipURL:       "https://453fdfd2ad24df.global-bm.whip.live-video.net",
		UserID:        "user-42",
		Attributes:    map[string]string{"displayName": "Ana \"the\" <host> ü\u2028\x01", "role": "host"},
		Publish:       true,
		Subscribe:     true,
		IssuedAt:      testNow.Add(-time.Minute),
		ExpiresAt:     testNow.Add(time.Hour),
	}
}

func TestParticipantRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tests := map[string]func(*auth.ParticipantClaims){
		"full":           func(*auth.ParticipantClaims) {},
		"minimal":        func(c *auth.ParticipantClaims) { c.UserID, c.Attributes, c.Publish, c.StageID = "", nil, false, "" },
		"subscribe only": func(c *auth.ParticipantClaims) { c.Publish = false },
		"max lifetime": func(c *auth.ParticipantClaims) {
			c.ExpiresAt = c.IssuedAt.Add(auth.MaxParticipantTokenDuration)
		},
		"sub-second times": func(c *auth.ParticipantClaims) {
			c.IssuedAt = c.IssuedAt.Add(400 * time.Millisecond)
			c.ExpiresAt = c.ExpiresAt.Add(900 * time.Millisecond)
		},
		"max attributes": func(c *auth.ParticipantClaims) {
			c.UserID = strings.Repeat("ü", auth.MaxUserIDLength)
			c.Attributes = map[string]string{"k": strings.Repeat(`"\`, (auth.MaxAttributesBytes-1)/2)}
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := sampleClaims()
			mutate(&in)
			token, err := auth.NewTokenSigner(key, "kid-1").MintParticipant(in)
			if err != nil {
				t.Fatal(err)
			}
			var gotKid string
			resolve := func(kid string) ([]*ecdsa.PublicKey, error) {
				gotKid = kid
				return []*ecdsa.PublicKey{&key.PublicKey}, nil
			}
			out, err := auth.VerifyParticipant(token, resolve, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if gotKid != "kid-1" {
				t.Errorf("resolver got kid %q", gotKid)
			}
			want := in
			want.IssuedAt = time.Unix(in.IssuedAt.Unix(), 0)
			want.ExpiresAt = time.Unix(in.ExpiresAt.Unix(), 0)
			if len(want.Attributes) == 0 {
				want.Attributes = nil
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("claims mismatch\n got %#v\nwant %#v", out, want)
			}
		})
	}
}

func TestMintParticipantPayloadShape(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	c := sampleClaims()
	c.UserID, c.Attributes = "", nil
	token, err := auth.NewTokenSigner(key, `we"ird\kid`).MintParticipant(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[2]) != 128 {
		t.Fatalf("token %q: want 3 segments and a 128-char signature", token)
	}
	var header, payload map[string]any
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("segment %d is not JSON: %v: %s", i, err, raw)
		}
	}
	wantHeader := map[string]any{"alg": "ES384", "typ": "JWT", "kid": `we"ird\kid`}
	if !maps.Equal(header, wantHeader) {
		t.Errorf("header = %v, want %v", header, wantHeader)
	}
	wantKeys := []string{"capabilities", "events_url", "exp", "iat", "jti", "resource", "topic", "version", "whip_url"}
	if got := sortedKeys(payload); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("payload keys = %v, want %v (user_id and attributes omitted when empty)", got, wantKeys)
	}
	if payload["version"] != "1.0" || payload["exp"] != float64(c.ExpiresAt.Unix()) {
		t.Errorf("payload = %v", payload)
	}
	caps, _ := payload["capabilities"].(map[string]any)
	if caps["allow_publish"] != true || caps["allow_subscribe"] != true {
		t.Errorf("capabilities = %v", payload["capabilities"])
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	return sortStrings(keys)
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func TestMintParticipantDefaults(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	c := sampleClaims()
	c.IssuedAt, c.ExpiresAt = time.Time{}, time.Time{}
	before := time.Now().Truncate(time.Second)
	token, err := auth.NewTokenSigner(key, "").MintParticipant(c)
	if err != nil {
		t.Fatal(err)
	}
	var gotKid = "unset"
	out, err := auth.VerifyParticipant(token, func(kid string) ([]*ecdsa.PublicKey, error) {
		gotKid = kid
		return []*ecdsa.PublicKey{&key.PublicKey}, nil
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if gotKid != "" {
		t.Errorf("resolver got kid %q, want empty", gotKid)
	}
	if out.IssuedAt.Before(before) || out.ExpiresAt.Sub(out.IssuedAt) != auth.DefaultParticipantTokenDuration {
		t.Fatalf("iat %v exp %v: want now and now+12h", out.IssuedAt, out.ExpiresAt)
	}
}

func TestMintParticipantRejects(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tests := []struct {
		name   string
		signer *auth.TokenSigner
		mutate func(*auth.ParticipantClaims)
		want   error
	}{
		{"no participant id", nil, func(c *auth.ParticipantClaims) { c.ParticipantID = "" }, auth.ErrTokenClaims},
		{"no stage arn", nil, func(c *auth.ParticipantClaims) { c.StageARN = "" }, auth.ErrTokenClaims},
		{"too long", nil, func(c *auth.ParticipantClaims) {
			c.ExpiresAt = c.IssuedAt.Add(auth.MaxParticipantTokenDuration + time.Second)
		}, auth.ErrTokenClaims},
		{"exp before iat", nil, func(c *auth.ParticipantClaims) { c.ExpiresAt = c.IssuedAt }, auth.ErrTokenClaims},
		{"attributes too big", nil, func(c *auth.ParticipantClaims) {
			c.Attributes = map[string]string{"a": strings.Repeat("x", auth.MaxAttributesBytes)}
		}, auth.ErrTokenClaims},
		{"user id too long", nil, func(c *auth.ParticipantClaims) {
			c.UserID = strings.Repeat("é", auth.MaxUserIDLength+1)
		}, auth.ErrTokenClaims},
		{"token too big", nil, func(c *auth.ParticipantClaims) { c.WhipURL = strings.Repeat("w", auth.MaxTokenBytes) }, auth.ErrTokenClaims},
		{"escaped attributes too big", nil, func(c *auth.ParticipantClaims) {
			// Within MaxAttributesBytes, but control characters expand
			// sixfold in JSON and push the token past MaxTokenBytes.
			c.Attributes = map[string]string{"k": strings.Repeat("\x01", auth.MaxAttributesBytes-1)}
		}, auth.ErrTokenClaims},
		{"p-256 key", auth.NewTokenSigner(newP256Key(t), "k"), func(*auth.ParticipantClaims) {}, auth.ErrInvalidKey},
		{"nil key", auth.NewTokenSigner(nil, "k"), func(*auth.ParticipantClaims) {}, auth.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			signer := tt.signer
			if signer == nil {
				signer = auth.NewTokenSigner(key, "k")
			}
			c := sampleClaims()
			tt.mutate(&c)
			token, err := signer.MintParticipant(c)
			if token != "" {
				t.Errorf("got token %q alongside error", token)
			}
			wantErr(t, err, tt.want)
		})
	}
	var nilSigner *auth.TokenSigner
	if _, err := nilSigner.MintParticipant(sampleClaims()); !errors.Is(err, auth.ErrInvalidKey) {
		t.Fatalf("nil signer: %v", err)
	}
}

func TestAttributesSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   map[string]string
		want int
	}{
		{nil, 0},
		{map[string]string{"a": "bc"}, 3},
		{map[string]string{"name": "Ana", "ü": "é"}, 11},
	}
	for _, tt := range tests {
		if got := auth.AttributesSize(tt.in); got != tt.want {
			t.Errorf("AttributesSize(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestVerifyParticipantRejects(t *testing.T) {
	t.Parallel()
	key, other := newKey(t), newKey(t)
	pub := &key.PublicKey
	signer := auth.NewTokenSigner(key, "k")
	good, err := signer.MintParticipant(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	es384 := map[string]any{"alg": "ES384", "typ": "JWT", "kid": "k"}
	withClaims := func(mutate func(jwt.MapClaims)) string {
		c := jwtClaims()
		mutate(c)
		return forgeES384(t, key, es384, c)
	}
	tampered := func() string {
		c := jwtClaims()
		c["capabilities"] = map[string]bool{"allow_publish": true, "allow_subscribe": true}
		c["jti"] = "someone-else"
		return parts[0] + "." + b64json(t, c) + "." + parts[2]
	}()
	pubPEM, err := auth.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	hs384 := func() string {
		input := b64json(t, map[string]string{"alg": "HS384", "typ": "JWT"}) + "." + parts[1]
		mac := hmac.New(sha512.New384, []byte(pubPEM)) // classic key-confusion attack
		mac.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}()
	es256, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwtClaims()).SignedString(newP256Key(t))
	if err != nil {
		t.Fatal(err)
	}
	resolverErr := errors.New("store unavailable")

	tests := []struct {
		name    string
		token   string
		resolve auth.KeyResolver
		want    error
	}{
		{"good", good, nil, nil},
		{"tampered payload", tampered, nil, auth.ErrTokenSignature},
		{"wrong key", good, resolverFor(&other.PublicKey), auth.ErrTokenSignature},
		{"no keys", good, resolverFor(), auth.ErrTokenSignature},
		{"nil key", good, resolverFor(nil), auth.ErrTokenSignature},
		{"p-256 key", good, resolverFor(&newP256Key(t).PublicKey), auth.ErrTokenSignature},
		{"resolver error", good, func(string) ([]*ecdsa.PublicKey, error) { return nil, resolverErr }, resolverErr},
		{"alg none", b64json(t, map[string]string{"alg": "none"}) + "." + parts[1] + ".", nil, auth.ErrTokenMalformed},
		{"alg missing", forgeES384(t, key, map[string]string{"typ": "JWT"}, jwtClaims()), nil, auth.ErrTokenMalformed},
		{"alg lower case", forgeES384(t, key, map[string]string{"alg": "es384"}, jwtClaims()), nil, auth.ErrTokenMalformed},
		{"alg HS384", hs384, nil, auth.ErrTokenMalformed},
		{"alg ES256", es256, nil, auth.ErrTokenMalformed},
		{"crit header", forgeES384(t, key, map[string]any{"alg": "ES384", "crit": []string{"x"}, "x": 1}, jwtClaims()), nil, auth.ErrTokenMalformed},
		{"expired", withClaims(func(c jwt.MapClaims) { c["exp"] = testNow.Unix() }), nil, auth.ErrTokenExpired},
		{"missing exp", withClaims(func(c jwt.MapClaims) { delete(c, "exp") }), nil, auth.ErrTokenClaims},
		{"null exp", withClaims(func(c jwt.MapClaims) { c["exp"] = nil }), nil, auth.ErrTokenClaims},
		{"string exp", withClaims(func(c jwt.MapClaims) { c["exp"] = "soon" }), nil, auth.ErrTokenClaims},
		{"huge exp", withClaims(func(c jwt.MapClaims) { c["exp"] = 1e300 }), nil, auth.ErrTokenClaims},
		{"fractional exp", withClaims(func(c jwt.MapClaims) { c["exp"] = float64(testNow.Unix()) + 0.5 }), nil, nil},
		{"missing jti", withClaims(func(c jwt.MapClaims) { delete(c, "jti") }), nil, auth.ErrTokenClaims},
		{"missing resource", withClaims(func(c jwt.MapClaims) { delete(c, "resource") }), nil, auth.ErrTokenClaims},
		{"iat within skew", withClaims(func(c jwt.MapClaims) { c["iat"] = testNow.Add(59 * time.Second).Unix() }), nil, nil},
		{"iat in future", withClaims(func(c jwt.MapClaims) { c["iat"] = testNow.Add(2 * time.Minute).Unix() }), nil, auth.ErrTokenClaims},
		{"no iat", withClaims(func(c jwt.MapClaims) { delete(c, "iat") }), nil, nil},
		{"attribute not string", withClaims(func(c jwt.MapClaims) { c["attributes"] = map[string]int{"a": 1} }), nil, auth.ErrTokenClaims},
		{"attributes too big", withClaims(func(c jwt.MapClaims) {
			c["attributes"] = map[string]string{"a": strings.Repeat("x", auth.MaxAttributesBytes)}
		}), nil, auth.ErrTokenClaims},
		{"user id too long", withClaims(func(c jwt.MapClaims) { c["user_id"] = strings.Repeat("u", 129) }), nil, auth.ErrTokenClaims},
		{"payload array", forgeES384(t, key, es384, []int{1}), nil, auth.ErrTokenClaims},
		{"oversize", withClaims(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("p", auth.MaxTokenBytes) }), nil, auth.ErrTokenMalformed},
		{"empty", "", nil, auth.ErrTokenMalformed},
		{"two segments", parts[0] + "." + parts[1], nil, auth.ErrTokenMalformed},
		{"four segments", good + ".x", nil, auth.ErrTokenMalformed},
		{"bad header base64", "!!." + parts[1] + "." + parts[2], nil, auth.ErrTokenMalformed},
		{"bad payload base64", parts[0] + ".!!." + parts[2], nil, auth.ErrTokenMalformed},
		{"short signature", parts[0] + "." + parts[1] + "." + parts[2][:86], nil, auth.ErrTokenSignature},
		{"padded signature", good + "==", nil, auth.ErrTokenSignature},
		{"header not json", base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], nil, auth.ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resolve := tt.resolve
			if resolve == nil {
				resolve = resolverFor(pub)
			}
			_, err := auth.VerifyParticipant(tt.token, resolve, testNow)
			wantErr(t, err, tt.want)
			if tt.name == "resolver error" && !errors.Is(err, auth.ErrTokenSignature) {
				t.Fatalf("resolver error should also wrap ErrTokenSignature: %v", err)
			}
		})
	}
	if _, err := auth.VerifyParticipant(good, nil, testNow); !errors.Is(err, auth.ErrTokenSignature) {
		t.Fatal("nil resolver accepted")
	}
}
