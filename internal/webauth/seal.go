package webauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a session key (AES-256).
const KeySize = 32

// Keys are the session keys: the first seals, every one opens, so a new
// key is rolled out by putting it first and an old one retired by removing
// it once the sessions it sealed have expired. Every replica must hold the
// same keys.
type Keys struct {
	keys []sealKey
}

type sealKey struct {
	id   string // first 8 hex digits of the key's SHA-256
	aead cipher.AEAD
}

// ParseKeys reads base64-encoded 32-byte keys separated by commas or
// newlines, as --session-keys-file and PROMOBOT_SESSION_KEYS hold them.
// Blank entries and lines starting with # are ignored. Errors name the
// entry by position and never echo a key.
func ParseKeys(s string) (*Keys, error) {
	var raw [][]byte
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	n := 0
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		n++
		key, err := base64.StdEncoding.DecodeString(entry)
		if err != nil {
			key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(entry, "="))
		}
		if err != nil {
			return nil, fmt.Errorf("webauth: session key %d is not base64", n)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("webauth: session key %d has %d bytes, want %d (make one with `openssl rand -base64 32`)", n, len(key), KeySize)
		}
		raw = append(raw, key)
	}
	if len(raw) == 0 {
		return nil, errors.New("webauth: no session key given (make one with `openssl rand -base64 32`)")
	}
	return NewKeys(raw...)
}

// NewKeys returns Keys from raw 32-byte keys, the first sealing.
func NewKeys(raw ...[]byte) (*Keys, error) {
	if len(raw) == 0 {
		return nil, errors.New("webauth: no session key given")
	}
	k := &Keys{}
	seen := map[string]bool{}
	for i, key := range raw {
		if len(key) != KeySize {
			return nil, fmt.Errorf("webauth: session key %d has %d bytes, want %d", i+1, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(key)
		id := hex.EncodeToString(sum[:4])
		if seen[id] {
			return nil, fmt.Errorf("webauth: session key %d repeats an earlier key", i+1)
		}
		seen[id] = true
		k.keys = append(k.keys, sealKey{id: id, aead: aead})
	}
	return k, nil
}

// sealVersion starts every sealed value, so the format can change.
const sealVersion = "v1"

// seal encrypts and authenticates plaintext with the first key, binding it
// to purpose (the cookie's name), and returns "v1.KEYID.BASE64URL".
func (k *Keys) seal(purpose string, plaintext []byte) string {
	key := k.keys[0]
	nonce := make([]byte, key.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("webauth: no randomness: " + err.Error())
	}
	sealed := key.aead.Seal(nonce, nonce, plaintext, additionalData(purpose, key.id))
	return sealVersion + "." + key.id + "." + base64.RawURLEncoding.EncodeToString(sealed)
}

var errUnsealed = errors.New("webauth: the sealed value is malformed, tampered with, or sealed with a key no longer held")

// open reverses seal with whichever key the value names.
func (k *Keys) open(purpose, value string) ([]byte, error) {
	version, rest, ok := strings.Cut(value, ".")
	if !ok || version != sealVersion {
		return nil, errUnsealed
	}
	id, data, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, errUnsealed
	}
	sealed, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil {
		return nil, errUnsealed
	}
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		if len(sealed) < key.aead.NonceSize() {
			return nil, errUnsealed
		}
		nonce, ciphertext := sealed[:key.aead.NonceSize()], sealed[key.aead.NonceSize():]
		plain, err := key.aead.Open(nil, nonce, ciphertext, additionalData(purpose, id))
		if err != nil {
			return nil, errUnsealed
		}
		return plain, nil
	}
	return nil, errUnsealed
}

func additionalData(purpose, id string) []byte {
	return []byte("promobot-webauth\x00" + sealVersion + "\x00" + purpose + "\x00" + id)
}
