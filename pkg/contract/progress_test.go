package contract

import (
	"strings"
	"testing"
)

func TestParseStep(t *testing.T) {
	good := Step{Workflow: "join", Step: "install-package", State: StepDone, DurationMS: 12034}
	tests := []struct {
		name, line string
		want       Step
		err        string
	}{
		{"round trip", string(good.Line()), Step{V: 1, Workflow: "join", Step: "install-package", State: StepDone, DurationMS: 12034}, ""},
		{"other version", `{"v":2,"step":"cni","state":"start"}`, Step{}, "protocol version 2"},
		{"unknown state", `{"v":1,"step":"cni","state":"halfway"}`, Step{}, `unknown state "halfway"`},
		{"no step", `{"v":1,"state":"start"}`, Step{}, "no step"},
		{"text", `[init] phase cni done in 1s`, Step{}, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStep(tt.line)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
