package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"sigs.k8s.io/yaml"
)

// TestVersion: every output format kubeadm's version has, with edgeadm's
// own version next to the embedded kubeadm's; short stays kubeadm's.
func TestVersion(t *testing.T) {
	kv := apimachineryversion.Info{GitVersion: "v1.2.3", Major: "1", Minor: "2"}
	tests := []struct {
		format  string
		check   func(t *testing.T, out string)
		wantErr string
	}{
		{"", func(t *testing.T, out string) {
			if !strings.Contains(out, `edgeadm version: "v0.9.9"`) || !strings.Contains(out, `kubeadm version: &version.Info{Major:"1", Minor:"2"`) {
				t.Errorf("text: %s", out)
			}
		}, ""},
		{"short", func(t *testing.T, out string) {
			if out != "v1.2.3\n" {
				t.Errorf("short: %q", out)
			}
		}, ""},
		{"json", func(t *testing.T, out string) {
			var v versionInfo
			if err := json.Unmarshal([]byte(out), &v); err != nil || v.EdgeadmVersion != "v0.9.9" || v.ClientVersion.GitVersion != "v1.2.3" {
				t.Errorf("json: %v %s", err, out)
			}
		}, ""},
		{"yaml", func(t *testing.T, out string) {
			var v versionInfo
			if err := yaml.Unmarshal([]byte(out), &v); err != nil || v.EdgeadmVersion != "v0.9.9" || v.ClientVersion.GitVersion != "v1.2.3" {
				t.Errorf("yaml: %v %s", err, out)
			}
		}, ""},
		{"xml", nil, `invalid output format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			err := printVersion(&b, tt.format, "v0.9.9", kv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, b.String())
		})
	}
}
