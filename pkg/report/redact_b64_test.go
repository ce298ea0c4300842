package report

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestRedactBase64Forms(t *testing.T) {
	const token = "abcdef.0123456789abcdef"
	var r Redactor
	r.Add(token)
	for _, prefix := range []string{"", "x", "xy", `{"token":"`, "data: "} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			line := "body=" + enc.EncodeToString([]byte(prefix+token+`","more":"stuff"}`))
			got := r.Redact(line)
			if !strings.Contains(got, Redacted) {
				t.Errorf("prefix %q: base64 form not redacted: %s", prefix, got)
			}
			// What is left must not decode back to the token.
			for _, part := range strings.Split(got, Redacted) {
				if dec, err := enc.DecodeString(strings.TrimPrefix(part, "body=")); err == nil && strings.Contains(string(dec), token) {
					t.Errorf("prefix %q: the token survives in %q", prefix, part)
				}
			}
		}
	}
	if got := r.Redact("plain " + token); strings.Contains(got, token) {
		t.Errorf("plain token not redacted: %s", got)
	}
}
