package edgeproxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"strings"
	"sync"

	"github.com/edgeops/edgeops/internal/atomicfile"
)

// tokenIdentities maps bearer tokens (by sha256) that an API server
// accepted to a cache directory named after the token's issuer and
// subject, so that a rotated service-account token (the kubelet renews
// projected tokens about hourly) keeps seeing what the previous one
// cached. Only a token an API server answered with a 2xx, or one an API
// server issued through a TokenRequest edge-proxy relayed, is mapped; any
// other token has a directory of its own, so a forged token never reaches
// another identity's cache. The file holds hashes, never tokens.
type tokenIdentities struct {
	path string
	log  *log.Logger

	mu  sync.Mutex
	dir map[string]string // token hash -> cache dir
}

const maxTokenIdentities = 4096

func loadTokenIdentities(path string, lg *log.Logger) *tokenIdentities {
	t := &tokenIdentities{path: path, log: lg, dir: map[string]string{}}
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &t.dir); err != nil {
			lg.Printf("cache: ignoring %s: %v", path, err)
			t.dir = map[string]string{}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		lg.Printf("cache: read %s: %v", path, err)
	}
	return t
}

func tokenHash(authorization string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(authorization)))
	return hex.EncodeToString(sum[:8])
}

// dirFor is the cache directory of a request's Authorization header.
func (t *tokenIdentities) dirFor(authorization string) string {
	h := tokenHash(authorization)
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.dir[h]; ok {
		return d
	}
	return "token-" + h
}

// confirm records that an API server accepted (or issued) the token and
// returns its directory from then on.
func (t *tokenIdentities) confirm(authorization string) string {
	h := tokenHash(authorization)
	t.mu.Lock()
	known, ok := t.dir[h]
	t.mu.Unlock()
	if ok {
		return known
	}
	iss, sub, ok := jwtSubject(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(authorization), "Bearer")))
	if !ok {
		return "token-" + h
	}
	sum := sha256.Sum256([]byte(iss + "\x00" + sub))
	d := "token-sub-" + hex.EncodeToString(sum[:8])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir[h] == d {
		return d
	}
	if len(t.dir) >= maxTokenIdentities {
		for k := range t.dir { // forget an arbitrary one: tokens expire anyway
			delete(t.dir, k)
			break
		}
	}
	t.dir[h] = d
	b, err := json.Marshal(t.dir)
	if err == nil {
		err = atomicfile.Write(t.path, b, 0o600)
	}
	if err != nil {
		t.log.Printf("cache: save token identities: %v", err)
	}
	return d
}

// jwtSubject reads iss and sub of a JWT without verifying it (the caller
// only trusts it because an API server accepted or issued it).
func jwtSubject(tok string) (iss, sub string, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", false
	}
	var c struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil || c.Sub == "" {
		return "", "", false
	}
	return c.Iss, c.Sub, true
}

// issuedToken is the token in a TokenRequest answer, as an Authorization value.
func issuedToken(body []byte) (string, error) {
	var tr struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("parse TokenRequest: %w", err)
	}
	if tr.Status.Token == "" {
		return "", errors.New("TokenRequest without a token")
	}
	return "Bearer " + tr.Status.Token, nil
}
