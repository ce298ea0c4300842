package report

import (
	"encoding/base64"
	"sort"
	"strings"
	"sync"
)

// Redacted replaces every secret in output.
const Redacted = "<redacted>"

// minSecretLen keeps short, common strings (an empty password, "a") from
// turning every line into mush; real secrets are far longer.
const minSecretLen = 6

// Redactor removes known secrets from text. Secrets are added while the run
// goes (the join token is only known after init), so it is safe for
// concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is replaced whole
}

// Add registers secrets, and their base64 forms (a kubeadm -v=8 log prints
// request bodies, Secret data is base64); short or empty values are ignored.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		for _, form := range append([]string{s}, base64Forms(s)...) {
			if len(form) >= minSecretLen && !contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Redact returns s with every known secret replaced.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// base64Forms are the runs of base64 (standard and URL alphabets) that
// encode s wherever it starts in a longer encoded text: at each of the
// three byte offsets, the characters that depend on s's bytes alone.
func base64Forms(s string) []string {
	var out []string
	for k := 0; k < 3; k++ {
		data := append(make([]byte, k), s...)
		full := len(data) / 3 * 3 // groups made of s's bytes (and the k pads) only
		if full == 0 {
			continue
		}
		from := 0
		if k > 0 {
			from = 4 // the first group mixes the pads with s
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			e := enc.EncodeToString(data[:full])
			if from < len(e) {
				out = append(out, e[from:])
			}
		}
	}
	return out
}
