package ssh

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	userKnown := filepath.Join(home, ".ssh", "known_hosts")
	key := []string{"/k"}
	tests := []struct {
		name      string
		cfg       Config
		wantErr   string
		wantKnown []string
	}{
		{"defaults", Config{Address: "10.0.0.3", IdentityFiles: key}, "", []string{userKnown}},
		{"inventory file first, then the user's", Config{Address: "h", IdentityFiles: key, KnownHostsFiles: []string{"/inv/known_hosts"}}, "", []string{"/inv/known_hosts", userKnown}},
		{"user's file not repeated", Config{Address: "h", IdentityFiles: key, KnownHostsFiles: []string{"~/.ssh/known_hosts"}}, "", []string{userKnown}},
		{"only given files", Config{Address: "h", IdentityFiles: key, KnownHostsFiles: []string{"/a"}, NoUserKnownHosts: true}, "", []string{"/a"}},
		{"no address", Config{IdentityFiles: key}, "address is empty", nil},
		{"no auth", Config{Address: "h"}, "no authentication method", nil},
		{"bad policy", Config{Address: "h", IdentityFiles: key, HostKeyPolicy: "yes"}, "want strict or accept-new", nil},
		{"keyboard-interactive without password", Config{Address: "h", IdentityFiles: key, KeyboardInteractive: true}, "keyboard-interactive needs", nil},
		{"no known_hosts at all", Config{Address: "h", IdentityFiles: key, NoUserKnownHosts: true}, "no known_hosts file", nil},
		{"bad bastion", Config{Address: "h", IdentityFiles: key, Bastions: []Config{{Address: "b"}}}, "bastion 1: ssh config b: no authentication", nil},
		{"port out of range", Config{Address: "h", IdentityFiles: key, Port: 70000}, "out of range", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := tt.cfg.withDefaults()
			if !reflect.DeepEqual(d.KnownHostsFiles, tt.wantKnown) {
				t.Fatalf("known hosts %v, want %v", d.KnownHostsFiles, tt.wantKnown)
			}
			if d.Port != 22 || d.User != "root" || d.Name != d.Address || d.HostKeyPolicy != HostKeyStrict ||
				d.ConnectTimeout != 15*time.Second || d.DialAttempts != 3 || d.MaxSessions != 8 {
				t.Fatalf("defaults not applied: %+v", d)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDGEOPS_TEST_SECRET", "from-env")
	tests := []struct {
		name    string
		s       Secret
		want    string
		wantOK  bool
		wantErr bool
	}{
		{"unset", Secret{}, "", false, false},
		{"env", Secret{Env: "EDGEOPS_TEST_SECRET"}, "from-env", true, false},
		{"file, newline trimmed", Secret{File: file}, "from-file", true, false},
		{"missing env", Secret{Env: "EDGEOPS_TEST_NOPE"}, "", false, true},
		{"missing file", Secret{File: filepath.Join(dir, "nope")}, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok, err := tt.s.Value()
			if v != tt.want || ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("Value() = %q %v %v", v, ok, err)
			}
		})
	}
}

// A quoted string reaches the command unchanged through a real sh.
func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", "it's", `"$HOME" $(id) ; rm -rf /`, "new\nline", "-n", "tab\tx", "back\\slash"} {
		out, err := exec.Command("sh", "-c", "printf '%s' "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Fatalf("shellQuote(%q) = %s came out as %q (%v)", s, shellQuote(s), out, err)
		}
	}
}
