package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	const token = "abcdef.0123456789abcdef"
	const key = "d41d8cd98f00b204e9800998ecf8427ed41d8cd98f00b204e9800998ecf8427e"
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none registered", nil, "token " + token, "token " + token},
		{"whole token", []string{token, "0123456789abcdef"}, "join with " + token, "join with " + Redacted},
		{"token secret alone", []string{token, "0123456789abcdef"}, "secret=0123456789abcdef;", "secret=" + Redacted + ";"},
		{"several in one line", []string{token, key}, token + " " + key + " " + token, strings.Join([]string{Redacted, Redacted, Redacted}, " ")},
		{"short values ignored", []string{"", "ab"}, "ab cd", "ab cd"},
		{"password", []string{"hunter2hunter2"}, "sudo: password hunter2hunter2 wrong", "sudo: password " + Redacted + " wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redactor
			r.Add(tt.secrets...)
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Event
		want map[string]any
	}{
		{"start", Event{Time: at, Host: "10.0.0.3", Phase: "join", Event: EventStart},
			map[string]any{"time": "2026-11-28T20:00:00Z", "host": "10.0.0.3", "phase": "join", "event": "start"}},
		{"failed", Event{Time: at, Host: "10.0.0.3", Phase: "join", Event: EventFailed, Error: "exit 1"},
			map[string]any{"time": "2026-11-28T20:00:00Z", "host": "10.0.0.3", "phase": "join", "event": "failed", "error": "exit 1"}},
		{"run-wide info", Event{Time: at, Event: EventInfo, Message: "hi"},
			map[string]any{"time": "2026-11-28T20:00:00Z", "event": "info", "message": "hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.e.MarshalLine()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
				t.Fatalf("not one line: %q", b)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventText(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Host: "h1", Phase: "join", Event: EventStart, Message: "joining as edge"}, "[h1] join: joining as edge"},
		{Event{Host: "h1", Phase: "join", Event: EventFailed, Error: "boom"}, "[h1] join: failed: boom"},
		{Event{Host: "h1", Phase: "stage", Event: EventSkipped, Message: "sha256 matches"}, "[h1] stage: skipped: sha256 matches"},
		{Event{Event: EventInfo, Message: "run log: x"}, "[edgeops] run log: x"},
	}
	for _, tt := range tests {
		if got := tt.e.Text(); got != tt.want {
			t.Errorf("Text() = %q, want %q", got, tt.want)
		}
	}
}

// Every sink gets the redacted text; output lines reach stdout only when verbose.
func TestReporterSinks(t *testing.T) {
	const secret = "s3cr3t-value-123"
	tests := []struct {
		name        string
		json        bool
		verbose     bool
		wantOutLine bool
	}{
		{"text quiet", false, false, false},
		{"text verbose", false, true, true},
		{"json quiet", true, false, false},
		{"json verbose", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, log bytes.Buffer
			r := New(Options{Out: &out, Log: &log, JSON: tt.json, Verbose: tt.verbose})
			r.AddSecrets(secret)
			r.Emit(Event{Host: "h", Phase: "init", Event: EventStart, Message: "token " + secret})
			r.Failed("h", "init", fmt.Errorf("kubeadm said %s", secret))
			w := r.Lines("h", "init")
			fmt.Fprintf(w, "line one %s\nline two", secret)
			w.Close()
			r.Summary("up", []Row{{Host: "h", Role: "master", Status: "failed", Detail: secret}})
			for name, s := range map[string]string{"out": out.String(), "log": log.String()} {
				if strings.Contains(s, secret) {
					t.Errorf("%s leaks the secret:\n%s", name, s)
				}
			}
			if !strings.Contains(log.String(), "line two") {
				t.Errorf("log misses output lines:\n%s", log.String())
			}
			if got := strings.Contains(out.String(), "line one"); got != tt.wantOutLine {
				t.Errorf("output line on stdout = %v, want %v:\n%s", got, tt.wantOutLine, out.String())
			}
			if tt.json {
				for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					var e Event
					if err := json.Unmarshal([]byte(l), &e); err != nil {
						t.Errorf("not a JSON event: %q: %v", l, err)
					}
				}
			}
		})
	}
}

// TestProgressEvents: without a live view, a transfer's progress is written
// at most every ProgressEvery per host, never for the first call or the end.
func TestProgressEvents(t *testing.T) {
	const mib = 1 << 20
	type call struct {
		at    time.Duration // since the start
		host  string
		done  int64
		total int64
	}
	tests := []struct {
		name  string
		live  bool
		calls []call
		want  []string // JSON messages, in order
	}{
		{"short transfer stays quiet", false, []call{{0, "h1", 0, 10 * mib}, {time.Second, "h1", 10 * mib, 10 * mib}}, nil},
		{"slow transfer reports every 5s", false, []call{
			{0, "h1", 0, 100 * mib}, {2 * time.Second, "h1", 10 * mib, 100 * mib},
			{5 * time.Second, "h1", 25 * mib, 100 * mib}, {6 * time.Second, "h1", 30 * mib, 100 * mib},
			{10 * time.Second, "h1", 50 * mib, 100 * mib}, {11 * time.Second, "h1", 100 * mib, 100 * mib},
		}, []string{"25.0 MiB of 100.0 MiB (25%)", "50.0 MiB of 100.0 MiB (50%)"}},
		{"hosts are throttled apart", false, []call{
			{0, "h1", 0, 100 * mib}, {0, "h2", 0, 100 * mib},
			{5 * time.Second, "h1", 10 * mib, 100 * mib}, {5 * time.Second, "h2", 20 * mib, 100 * mib},
		}, []string{"10.0 MiB of 100.0 MiB (10%)", "20.0 MiB of 100.0 MiB (20%)"}},
		{"a live view draws instead", true, []call{{0, "h1", 0, 100 * mib}, {10 * time.Second, "h1", 50 * mib, 100 * mib}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
			now := start
			var out bytes.Buffer
			r := New(Options{Out: &out, JSON: !tt.live, Live: tt.live, Now: func() time.Time { return now }})
			for _, c := range tt.calls {
				now = start.Add(c.at)
				r.Progress(c.host, "stage", c.done, c.total)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if line == "" || tt.live {
					continue
				}
				var e Event
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("bad JSON %q: %v", line, err)
				}
				if e.Event != EventProgress || e.Phase != "stage" || e.Bytes == 0 || e.Total == 0 {
					t.Errorf("unexpected event %+v", e)
				}
				got = append(got, e.Message)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("progress messages %q, want %q", got, tt.want)
			}
		})
	}
}
