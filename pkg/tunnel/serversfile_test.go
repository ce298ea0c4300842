package tunnel

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestReadServersFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string // content "-": no file
		want          []string
		wantErr       string
	}{
		{name: "missing", content: "-"},
		{name: "empty list", content: `{"servers": []}`},
		{
			name:    "edge-proxy's",
			content: `{"servers": ["https://10.0.0.2:6443", "https://10.0.0.1:6443", "https://10.0.0.1:443"]}`,
			want:    []string{"10.0.0.1:10262", "10.0.0.2:10262"},
		},
		{name: "IPv6 and names", content: `{"servers": ["https://[fd00::1]:6443", "https://master-1.lab:6443", "master-2:6443", "master-3"]}`,
			want: []string{"[fd00::1]:10262", "master-1.lab:10262", "master-2:10262", "master-3:10262"}},
		{name: "not JSON", content: `{"servers": [`, wantErr: "unexpected end of JSON"},
		{name: "URL without host", content: `{"servers": ["https://:6443"]}`, wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if tt.content != "-" {
				writeFile(t, path, []byte(tt.content))
			}
			got, err := readServersFile(path, 10262)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
