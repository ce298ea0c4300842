package phases

import (
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/inventory"
)

func titles(list []Phase) []string {
	var out []string
	for _, p := range list {
		out = append(out, p.Title())
	}
	return out
}

func TestPhaseOrdering(t *testing.T) {
	tests := []struct {
		name    string
		list    []Phase
		before  [][2]string // a must come before b
		absent  []string
		serial  []string
		critial []string
	}{
		{"up", UpPhases(), [][2]string{
			{"connect", "lock"}, {"lock", "facts"}, {"facts", "decide"}, {"decide", "preflight"},
			{"preflight", "stage"}, {"stage", "reset half-joined"}, {"reset half-joined", "join info"},
			{"init", "join info"}, {"join info", "join masters"}, {"join masters", "join nodes"},
			{"join nodes", "labels"}, {"labels", "ready"}, {"kubeconfig", "ready"},
		}, nil, []string{"join masters"}, []string{"lock", "decide", "preflight", "init"}},
		{"add-node", AddNodePhases(), [][2]string{
			{"lock", "stage"}, {"reset half-joined", "join info"}, {"join info", "join masters"}, {"join masters", "join nodes"}, {"join nodes", "ready"},
		}, []string{"init"}, []string{"join masters"}, []string{"lock", "decide"}},
		{"reset", ResetPhases(), [][2]string{
			{"connect", "lock"}, {"lock", "reset nodes"}, {"reset nodes", "reset masters"}, {"reset masters", "reset leader"},
		}, nil, []string{"reset masters", "reset leader"}, []string{"lock"}},
		{"plan changes nothing", PlanPhases(), [][2]string{{"facts", "decide"}, {"decide", "preflight"}},
			[]string{"lock", "stage", "init", "join info", "join masters", "join nodes", "reset half-joined", "labels"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := titles(tt.list)
			idx := map[string]int{}
			for i, x := range ts {
				if _, dup := idx[x]; dup {
					t.Errorf("phase %q twice in %v", x, ts)
				}
				idx[x] = i
			}
			for _, pair := range tt.before {
				a, okA := idx[pair[0]]
				b, okB := idx[pair[1]]
				if !okA || !okB || a >= b {
					t.Errorf("want %q before %q in %s", pair[0], pair[1], strings.Join(ts, " → "))
				}
			}
			for _, x := range tt.absent {
				if _, ok := idx[x]; ok {
					t.Errorf("%q must not be in %v", x, ts)
				}
			}
			for _, x := range tt.serial {
				if !isSerial(tt.list[idx[x]]) {
					t.Errorf("%q must be serial", x)
				}
			}
			for _, x := range tt.critial {
				if !isCritical(tt.list[idx[x]]) {
					t.Errorf("%q must be critical", x)
				}
			}
			if ts[0] != "connect" {
				t.Errorf("first phase %q, want connect", ts[0])
			}
		})
	}
}

func TestSecretRefsIncludeBastions(t *testing.T) {
	sc := inventory.SSHConfig{Password: inventory.SecretRef{Env: "HOST_PW"},
		Jumps: []inventory.SSHConfig{{Password: inventory.SecretRef{Env: "JUMP1_PW"}}, {Password: inventory.SecretRef{File: "/run/jump2"}}}}
	var got []string
	for _, r := range secretRefs(sc) {
		if r.IsSet() {
			got = append(got, r.Env+r.File)
		}
	}
	if strings.Join(got, ",") != "HOST_PW,JUMP1_PW,/run/jump2" {
		t.Errorf("secret refs %v", got)
	}
}
