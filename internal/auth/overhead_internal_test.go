package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"strings"
	"testing"
	"time"
)

// BenchmarkMintOverhead measures everything MintParticipant does except the
// ECDSA signature itself (validation, JSON and base64 encoding, SHA-384,
// unpacking a DER signature, assembling the token), i.e. the cost the mint
// path adds on top of BenchmarkES384SignRaw. It mirrors MintParticipant
// step by step; keep the two in sync.
func BenchmarkMintOverhead(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s := NewTokenSigner(key, "arn:aws:ivs:us-west-2:123456789012:public-key/abc")
	now := time.Now()
	c := ParticipantClaims{
		ParticipantID: "pQ7xYz123",
		StageARN:      "arn:aws:ivs:us-west-2:123456789012:stage/AbCdEf123456",
		StageID:       "AbCdEf123456",
		EventsURL:     "wss://global.events.live-video.net",
		WhipURL:       "https://453fdfd2ad24df.global-bm.whip.live-video.net",
		UserID:        "user-42",
		Attributes:    map[string]string{"displayName": "Ana", "avatar": "https://cdn.example.com/a/42.png"},
		Publish:       true,
		Subscribe:     true,
		IssuedAt:      now,
		ExpiresAt:     now.Add(DefaultParticipantTokenDuration),
	}
	digest := sha512.Sum384([]byte("x"))
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := validateParticipant(&c); err != nil {
			b.Fatal(err)
		}
		var payloadBuf [1024]byte
		payload := appendParticipantPayload(payloadBuf[:0], &c)
		var inputBuf [1536]byte
		input := append(inputBuf[:0], s.header...)
		input = b64.AppendEncode(input, payload)
		sum := sha512.Sum384(input)
		_ = sum
		var sig [es384SigSize]byte
		seq, _, _ := readDER(der, 0x30)
		r, seq, _ := readDER(seq, 0x02)
		sv, _, _ := readDER(seq, 0x02)
		putScalar(sig[:es384KeySize], r)
		putScalar(sig[es384KeySize:], sv)
		var sigB64 [128]byte
		b64.Encode(sigB64[:], sig[:])
		var out strings.Builder
		out.Grow(len(input) + 1 + len(sigB64))
		out.Write(input)
		out.WriteByte('.')
		out.Write(sigB64[:])
		if out.Len() == 0 {
			b.Fatal("empty token")
		}
	}
}

func TestReadDERAndPutScalar(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Many signatures exercise short r/s values (leading zero bytes) too.
	for range 200 {
		var sig [es384SigSize]byte
		input := []byte("payload")
		if err := signES384(key, input, &sig); err != nil {
			t.Fatal(err)
		}
		digest := sha512.Sum384(input)
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], rawToDER(sig)) {
			t.Fatal("raw signature does not verify")
		}
	}
	for _, bad := range [][]byte{nil, {0x30}, {0x30, 0x85, 1}, {0x31, 0}, {0x30, 0x81}, {0x30, 5, 2}} {
		if _, _, ok := readDER(bad, 0x30); ok {
			t.Fatalf("readDER accepted %x", bad)
		}
	}
	if putScalar(make([]byte, 2), []byte{1, 2, 3}) {
		t.Fatal("putScalar accepted an oversized integer")
	}
}

// rawToDER converts r||s back to an ASN.1 signature for ecdsa.VerifyASN1.
func rawToDER(sig [es384SigSize]byte) []byte {
	integer := func(v []byte) []byte {
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if v[0]&0x80 != 0 {
			v = append([]byte{0}, v...)
		}
		return append([]byte{0x02, byte(len(v))}, v...)
	}
	body := append(integer(sig[:es384KeySize]), integer(sig[es384KeySize:])...)
	if len(body) < 0x80 {
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	return append([]byte{0x30, 0x81, byte(len(body))}, body...)
}
