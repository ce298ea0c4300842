package edgeproxy

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
)

type recorder struct {
	*httptest.ResponseRecorder
	code int
	body *bytes.Buffer
}

func newRecorder() *recorder {
	r := httptest.NewRecorder()
	return &recorder{ResponseRecorder: r, body: r.Body, code: 200}
}

func (r *recorder) WriteHeader(c int) { r.code = c; r.ResponseRecorder.WriteHeader(c) }

func mustReq(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }

func mustLeaf(t testing.TB, certPEM []byte) *x509.Certificate {
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
