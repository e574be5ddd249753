package auth_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
)

// benchClaims is a typical CreateParticipantToken request.
func benchClaims() auth.ParticipantClaims {
	now := time.Now()
	c := sampleClaims()
	c.IssuedAt, c.ExpiresAt = now, now.Add(auth.DefaultParticipantTokenDuration)
	c.Attributes = map[string]string{"displayName": "Ana", "avatar": "https://cdn.example.com/a/42.png"}
	return c
}

// BenchmarkES384SignRaw is the ceiling: one P-384 ECDSA signature over a
// precomputed SHA-384 digest, nothing else.
func BenchmarkES384SignRaw(b *testing.B) {
	key := newKey(b)
	digest := sha512.Sum384([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ecdsa.Sign(rand.Reader, key, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkES384SignRawParallel(b *testing.B) {
	key := newKey(b)
	digest := sha512.Sum384([]byte("header.payload"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := ecdsa.Sign(rand.Reader, key, digest[:]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMintParticipant(b *testing.B) {
	signer := auth.NewTokenSigner(newKey(b), "arn:aws:ivs:us-west-2:123456789012:public-key/abc")
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signer.MintParticipant(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMintParticipantParallel(b *testing.B) {
	signer := auth.NewTokenSigner(newKey(b), "arn:aws:ivs:us-west-2:123456789012:public-key/abc")
	c := benchClaims()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := signer.MintParticipant(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyParticipant(b *testing.B) {
	key := newKey(b)
	token, err := auth.NewTokenSigner(key, "k").MintParticipant(benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	resolve := resolverFor(&key.PublicKey)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.VerifyParticipant(token, resolve, now); err != nil {
			b.Fatal(err)
		}
	}
}
