package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// hmacBlock is the SHA-256 block size used by HMAC.
const hmacBlock = 64

// maxCachedKeys bounds the derived signing key cache. A key is valid for one
// (access key, date, region), so a deployment needs about (active keys x
// regions) entries, twice around midnight UTC. 1024 entries (~100 KiB) is
// plenty; when full an arbitrary entry is evicted.
const maxCachedKeys = 1024

// deriveKey computes the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(secret, date, region, service string) [32]byte {
	k := hmacSum([]byte("AWS4"+secret), date)
	k = hmacSum(k[:], region)
	k = hmacSum(k[:], service)
	k = hmacSum(k[:], scopeTerminator)
	return k
}

func hmacSum(key []byte, msg string) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// hmacSHA256Prefixed computes HMAC-SHA256(key, buf[hmacBlock:]) (RFC 2104)
// for a 32-byte key. The first hmacBlock bytes of buf are scratch space for
// the inner padded key, which lets the inner hash run over one contiguous
// stack buffer with sha256.Sum256 instead of allocating an hmac.Hash.
func hmacSHA256Prefixed(key *[32]byte, buf []byte) [32]byte {
	for i := range hmacBlock {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		buf[i] = k ^ 0x36
	}
	inner := sha256.Sum256(buf)
	var outer [hmacBlock + sha256.Size]byte
	for i := range hmacBlock {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		outer[i] = k ^ 0x5c
	}
	copy(outer[hmacBlock:], inner[:])
	return sha256.Sum256(outer[:])
}

type keyCacheKey struct {
	accessKeyID, date, region string
}

type keyCacheEntry struct {
	secret string // the secret the key was derived from (rotation check)
	key    [32]byte
}

// keyCache is a bounded cache of derived signing keys. The service is fixed
// per Verifier, so it is not part of the cache key.
type keyCache struct {
	mu sync.RWMutex
	m  map[keyCacheKey]keyCacheEntry
}

func (c *keyCache) get(accessKeyID, secret, date, region string) ([32]byte, bool) {
	c.mu.RLock()
	e, ok := c.m[keyCacheKey{accessKeyID, date, region}]
	c.mu.RUnlock()
	if !ok || e.secret != secret {
		return [32]byte{}, false
	}
	return e.key, true
}

func (c *keyCache) put(accessKeyID, secret, date, region string, key [32]byte) {
	// Clone: the strings are substrings of the Authorization header.
	k := keyCacheKey{strings.Clone(accessKeyID), strings.Clone(date), strings.Clone(region)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[keyCacheKey]keyCacheEntry)
	}
	if _, exists := c.m[k]; !exists && len(c.m) >= maxCachedKeys {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = keyCacheEntry{secret: secret, key: key}
}
