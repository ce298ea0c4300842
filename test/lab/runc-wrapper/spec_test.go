package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpecFile(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantFile    string
		wantProcess bool
	}{
		{"create with --bundle", []string{"--root", "/run/runc", "create", "--bundle", "/b", "id"}, "/b/config.json", false},
		{"create with --bundle=", []string{"--log=/l", "--log-format", "json", "create", "--bundle=/b", "id"}, "/b/config.json", false},
		{"run with -b", []string{"run", "-b", "/b", "id"}, "/b/config.json", false},
		{"create in the cwd", []string{"--systemd-cgroup", "create", "id"}, "config.json", false},
		{"global value equal to a command", []string{"--root", "create", "start", "id"}, "", false},
		{"exec with --process", []string{"--root", "/r", "exec", "--process", "/p.json", "--detach", "id"}, "/p.json", true},
		{"exec with -p=", []string{"exec", "-p=/p.json", "id"}, "/p.json", true},
		{"exec without a process file", []string{"exec", "id", "ls"}, "", false},
		{"start", []string{"start", "id"}, "", false},
		{"no command", []string{"--version"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, isProcess := specFile(tt.args)
			if file != tt.wantFile || isProcess != tt.wantProcess {
				t.Errorf("specFile(%q) = %q, %v; want %q, %v", tt.args, file, isProcess, tt.wantFile, tt.wantProcess)
			}
		})
	}
}

func TestPatchSpec(t *testing.T) {
	allCaps := `["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_NET_ADMIN"]`
	tests := []struct {
		name        string
		in          string
		isProcess   bool
		wantChanged bool
		wantOOM     string // "" = absent
	}{
		{"config: caps and oom", `{"ociVersion":"1.0.2","process":{"oomScoreAdj":-998,"capabilities":{"bounding":` + allCaps + `,"effective":` + allCaps + `,"permitted":` + allCaps + `,"inheritable":` + allCaps + `,"ambient":` + allCaps + `}},"linux":{"resources":{"memory":{"limit":9223372036854775807}}}}`, false, true, "0"},
		{"config: positive oom kept", `{"process":{"oomScoreAdj":500,"capabilities":{"bounding":["CAP_CHOWN"]}}}`, false, false, "500"},
		{"config: nothing to do", `{"process":{"capabilities":{"bounding":["CAP_CHOWN"]}}}`, false, false, ""},
		{"config: no process", `{"ociVersion":"1.0.2"}`, false, false, ""},
		{"process file", `{"args":["sh"],"oomScoreAdj":-500,"capabilities":{"bounding":` + allCaps + `}}`, true, true, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := patchSpec([]byte(tt.in), tt.isProcess)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if strings.Contains(string(out), "CAP_SYS_RESOURCE") {
				t.Errorf("CAP_SYS_RESOURCE still in %s", out)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("output is not JSON: %v: %s", err, out)
			}
			proc := doc
			if !tt.isProcess {
				if raw, ok := doc["process"]; ok {
					proc = nil
					if err := json.Unmarshal(raw, &proc); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := string(proc["oomScoreAdj"]); got != tt.wantOOM {
				t.Errorf("oomScoreAdj = %q, want %q", got, tt.wantOOM)
			}
			// Large numbers must survive unchanged (no float rounding).
			if strings.Contains(tt.in, "9223372036854775807") && !strings.Contains(string(out), "9223372036854775807") {
				t.Errorf("memory limit lost precision: %s", out)
			}
			if strings.Contains(tt.in, "CAP_NET_ADMIN") && strings.Count(string(out), "CAP_NET_ADMIN") != strings.Count(tt.in, "CAP_NET_ADMIN") {
				t.Errorf("other capabilities changed: %s", out)
			}
		})
	}
}

func TestPatchFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, []byte(`{"process":{"oomScoreAdj":-998}}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := patchFile(file, false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), `"oomScoreAdj":0`) {
		t.Errorf("not patched: %s", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestFindRuncSkipsItself(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "bin1", "runc")
	real := filepath.Join(dir, "bin2", "runc")
	for _, p := range []string{self, real} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, override, path, want string
	}{
		{"override wins", real, filepath.Dir(self), real},
		{"itself skipped on PATH", "", filepath.Dir(self) + ":" + filepath.Dir(real), real},
		{"override that is itself skipped", self, filepath.Dir(real), real},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findRunc(self, tt.override, tt.path, nil)
			if err != nil || got != tt.want {
				t.Errorf("findRunc = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
