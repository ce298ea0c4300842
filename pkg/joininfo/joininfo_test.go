package joininfo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sample() Info {
	return Info{
		APIServerEndpoint: "10.0.0.2:6443",
		Token:             "abcdef.0123456789abcdef",
		CACertHashes:      []string{"sha256:" + strings.Repeat("a", 64)},
		CertificateKey:    strings.Repeat("b", 64),
		TokenExpires:      time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestFormattingNeverLeaksSecrets(t *testing.T) {
	i := sample()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, i)
		for _, secret := range i.Secrets() {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaked a secret: %s", verb, out)
			}
		}
	}
}

func TestRoundTripIsRootOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "join-info.json")
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != sample().Token || got.CertificateKey != sample().CertificateKey {
		t.Errorf("round trip lost data")
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"bad token", `{"apiServerEndpoint":"a:1","token":"nope","caCertHashes":["sha256:x"]}`, "token is not"},
		{"no endpoint", `{"token":"abcdef.0123456789abcdef","caCertHashes":["sha256:x"]}`, "apiServerEndpoint is empty"},
		{"no hash", `{"apiServerEndpoint":"a:1","token":"abcdef.0123456789abcdef"}`, "caCertHashes is empty"},
		{"bad hash", `{"apiServerEndpoint":"a:1","token":"abcdef.0123456789abcdef","caCertHashes":["md5:x"]}`, "caCertHashes[0]"},
		{"unknown field", `{"apiServerEndpoint":"a:1","tokn":"x"}`, "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "abcdef.0123456789abcdef") {
				t.Fatalf("error leaked the token: %v", err)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	i := sample()
	if i.Expired(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("expired too early")
	}
	if !i.Expired(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("not expired after TokenExpires")
	}
	i.TokenExpires = time.Time{}
	if i.Expired(time.Now()) {
		t.Error("a token without expiry expired")
	}
}
