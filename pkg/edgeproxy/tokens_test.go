package edgeproxy

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func fakeJWT(sub, jti string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256"}) + "." + enc(map[string]string{"iss": "https://kubernetes.default.svc", "sub": sub, "jti": jti}) + ".c2ln"
}

// TestRotatedTokenKeepsCache: a service account's next token (accepted
// upstream) sees what the previous one cached; a forged token of the same
// subject (refused upstream) does not.
func TestRotatedTokenKeepsCache(t *testing.T) {
	h := newHarness(t, 1, nil)
	const sub = "system:serviceaccount:kube-system:kube-proxy"
	t1, t2, forged := fakeJWT(sub, "1"), fakeJWT(sub, "2"), fakeJWT(sub, "3")
	h.fakes[0].mu.Lock()
	h.fakes[0].validTokens = map[string]bool{t1: true, t2: true}
	h.fakes[0].mu.Unlock()
	h.put(0, "a")
	if r := h.do(h.plain, "GET", cmPath, t1, ""); r.code != 200 {
		t.Fatalf("LIST with t1: %d %s", r.code, r.body)
	}
	if r := h.do(h.plain, "GET", "/whoami", t2, ""); r.code != 200 { // the rotated token, used once online
		t.Fatalf("t2: %d", r.code)
	}
	if r := h.do(h.plain, "GET", "/whoami", forged, ""); r.code != 401 {
		t.Fatalf("forged: %d", r.code)
	}
	h.fakes[0].stop()
	h.waitOnline(false)
	if r := h.do(h.plain, "GET", cmPath, t2, ""); r.code != 200 || r.header.Get(CacheHeader) != "hit" {
		t.Errorf("offline LIST with the rotated token: %d %s", r.code, r.body)
	}
	if r := h.do(h.plain, "GET", cmPath, forged, ""); r.code != 503 {
		t.Errorf("offline LIST with a forged token of the same subject: %d %s", r.code, r.body)
	}
	if r := h.do(h.plain, "GET", cmPath, "not-a-jwt", ""); r.code != 503 {
		t.Errorf("offline LIST with another token: %d", r.code)
	}
}
