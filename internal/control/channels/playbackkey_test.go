package channels_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func p384PEM(t *testing.T) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := auth.GenerateKey()
	require.NoError(t, err)
	pemText, err := auth.MarshalPublicKeyPEM(&key.PublicKey)
	require.NoError(t, err)
	return pemText, key
}

func pkixPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestImportPlaybackKeyPairRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	good, priv := p384PEM(t)
	privPEM, err := auth.MarshalPrivateKeyPEM(priv)
	require.NoError(t, err)

	tests := []struct {
		name     string
		material string
		reason   string
	}{
		{name: "empty", material: "", reason: "empty"},
		{name: "not PEM", material: "hello", reason: "not PEM"},
		{name: "P-256 key", material: pkixPEM(t, &p256.PublicKey), reason: "P-384"},
		{name: "RSA key", material: pkixPEM(t, &rsaKey.PublicKey), reason: "RSA"},
		{name: "private key", material: string(privPEM), reason: "private key"},
		{name: "two blocks", material: good + good, reason: "exactly one block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: ptr(tc.material)})
			requireValidation(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), "publicKeyMaterial")
		})
	}
}

func TestPlaybackKeyPairLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	material, key := p384PEM(t)

	out, err := e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{
		PublicKeyMaterial: ptr(material), Name: ptr("kp-1"), Tags: map[string]string{"env": "test"},
	})
	require.NoError(t, err)
	kp := out.KeyPair
	assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:playback-key/[a-zA-Z0-9]{12}$`, *kp.Arn)
	assert.Equal(t, "kp-1", *kp.Name)
	assert.Equal(t, auth.Fingerprint(&key.PublicKey), *kp.Fingerprint)
	assert.Regexp(t, `^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, *kp.Fingerprint)
	assert.Equal(t, map[string]string{"env": "test"}, kp.Tags)

	// The same key again (even with CRLF line endings) conflicts.
	crlf := ""
	for _, r := range material {
		if r == '\n' {
			crlf += "\r"
		}
		crlf += string(r)
	}
	_, err = e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: ptr(crlf)})
	requireConflict(t, err)

	got, err := e.svc.GetPlaybackKeyPair(t.Context(), &ivsapi.GetPlaybackKeyPairRequest{Arn: kp.Arn})
	require.NoError(t, err)
	assert.Equal(t, kp, got.KeyPair)

	// Quota of 3.
	for range 2 {
		m, _ := p384PEM(t)
		_, err := e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: ptr(m)})
		require.NoError(t, err)
	}
	m, _ := p384PEM(t)
	_, err = e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: ptr(m)})
	requireQuota(t, err)

	keys, err := e.svc.PlaybackPublicKeys(t.Context())
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.True(t, keys[0].Equal(&key.PublicKey))

	// The default page is the quota (3); maxResults pages.
	list, err := e.svc.ListPlaybackKeyPairs(t.Context(), &ivsapi.ListPlaybackKeyPairsRequest{})
	require.NoError(t, err)
	assert.Len(t, list.KeyPairs, 3)
	assert.Nil(t, list.NextToken)
	assert.Equal(t, ivsapi.PlaybackKeyPairSummary{Arn: kp.Arn, Name: kp.Name, Tags: kp.Tags}, list.KeyPairs[0])
	list, err = e.svc.ListPlaybackKeyPairs(t.Context(), &ivsapi.ListPlaybackKeyPairsRequest{MaxResults: ptr(int64(2))})
	require.NoError(t, err)
	assert.Len(t, list.KeyPairs, 2)
	require.NotNil(t, list.NextToken)
	list, err = e.svc.ListPlaybackKeyPairs(t.Context(), &ivsapi.ListPlaybackKeyPairsRequest{MaxResults: ptr(int64(2)), NextToken: list.NextToken})
	require.NoError(t, err)
	assert.Len(t, list.KeyPairs, 1)
	assert.Nil(t, list.NextToken)

	// Delete frees a slot and removes the key from verification.
	del, err := e.svc.DeletePlaybackKeyPair(t.Context(), &ivsapi.DeletePlaybackKeyPairRequest{Arn: kp.Arn})
	require.NoError(t, err)
	assert.Equal(t, &ivsapi.DeletePlaybackKeyPairResponse{}, del)
	_, err = e.svc.DeletePlaybackKeyPair(t.Context(), &ivsapi.DeletePlaybackKeyPairRequest{Arn: kp.Arn})
	requireNotFound(t, err, *kp.Arn)
	_, err = e.svc.GetPlaybackKeyPair(t.Context(), &ivsapi.GetPlaybackKeyPairRequest{Arn: kp.Arn})
	requireNotFound(t, err, *kp.Arn)
	keys, err = e.svc.PlaybackPublicKeys(t.Context())
	require.NoError(t, err)
	assert.Len(t, keys, 2)
	_, err = e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: ptr(material)})
	require.NoError(t, err)
}
