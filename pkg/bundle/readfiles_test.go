package bundle

import (
	"context"
	"reflect"
	"testing"
)

func TestReadFiles(t *testing.T) {
	ctx := context.Background()
	pkg := packTest(t)
	tests := []struct {
		prefix string
		want   map[string]string
	}{
		{"config/", map[string]string{"config/sysctl-k8s.conf": "net.ipv4.ip_forward = 1\n"}},
		{"bin/edge", map[string]string{"bin/edgeadm": "#!edgeadm\n"}},
		{"manifests/edge/", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got, err := ReadFiles(ctx, pkg, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			s := map[string]string{}
			for k, v := range got {
				s[k] = string(v)
			}
			if !reflect.DeepEqual(s, tt.want) {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
	if _, err := ReadFiles(ctx, pkg+".missing", "config/"); err == nil {
		t.Error("a missing package read without error")
	}
}
