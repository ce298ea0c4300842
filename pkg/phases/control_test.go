package phases

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

func TestPhaseNamesComeFromTheList(t *testing.T) {
	for _, tt := range []struct {
		name string
		list []Phase
	}{{"up", UpPhases()}, {"add-node", AddNodePhases()}} {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, p := range Describe(tt.list) {
				if seen[p.Name] || p.Name == "" || strings.ContainsAny(p.Name, " _") || strings.ToLower(p.Name) != p.Name {
					t.Errorf("phase name %q: want unique kebab-case", p.Name)
				}
				seen[p.Name] = true
				if p.Description == "" {
					t.Errorf("phase %q has no description for --help", p.Name)
				}
				for _, n := range p.Needs {
					if !slices.Contains(Skippable(tt.list), n) {
						t.Errorf("phase %q needs %q, which is not a phase of the list", p.Name, n)
					}
				}
			}
			for _, n := range []string{"connect", "lock", "facts", "decide"} {
				if slices.Contains(Selectable(tt.list), n) || slices.Contains(Skippable(tt.list), n) {
					t.Errorf("plumbing phase %q offered for selection", n)
				}
			}
			for _, n := range []string{"join-info", "labels"} {
				if slices.Contains(Selectable(tt.list), n) || !slices.Contains(Skippable(tt.list), n) {
					t.Errorf("%s: runs only with the phases that need it (not alone), may be skipped with them", n)
				}
			}
		})
	}
	if got := Name(joinPhase{masters: true}); got != "join-masters" {
		t.Errorf("Name(join masters) = %q", got)
	}
}

// ran is the titles of the phases a selected list runs (left-out ones and
// the control check excluded).
func ranTitles(list []Phase) []string {
	var out []string
	for _, p := range list {
		_, left := p.(deselected)
		_, check := p.(*controlCheck)
		if !left && !check {
			out = append(out, p.Title())
		}
	}
	return out
}

func TestSelect(t *testing.T) {
	plumbing := []string{"connect", "lock", "facts", "decide"}
	all := titles(UpPhases())
	without := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return slices.Contains(drop, s) })
	}
	tests := []struct {
		name    string
		sel     Selection
		want    []string // titles run, in order
		wantErr string
	}{
		{"nothing selected: the list itself", Selection{}, all, ""},
		{"stage alone, after preflight", Selection{Only: "stage"}, append(slices.Clone(plumbing), "preflight", "stage"), ""},
		{"a join brings join info and labels", Selection{Only: "join-nodes"}, append(slices.Clone(plumbing), "preflight", "join info", "join nodes", "labels"), ""},
		{"init brings labels", Selection{Only: "init"}, append(slices.Clone(plumbing), "preflight", "init", "labels"), ""},
		{"a phase that changes nothing runs without preflight", Selection{Only: "kubeconfig"}, append(slices.Clone(plumbing), "kubeconfig"), ""},
		{"preflight alone", Selection{Only: "preflight"}, append(slices.Clone(plumbing), "preflight"), ""},
		{"skip stage", Selection{Skip: []string{"stage"}}, without("stage"), ""},
		{"skip several, spaces tolerated", Selection{Skip: []string{"kubeconfig", " ready"}}, without("kubeconfig", "ready"), ""},
		{"skip the joins with their join info", Selection{Skip: []string{"join-info", "join-masters", "join-nodes"}}, without("join info", "join masters", "join nodes"), ""},
		{"labels skipped while hosts are made: they would stay unlabelled", Selection{Skip: []string{"labels"}}, nil, "--skip-phases labels: init needs it (labels runs whenever init does)"},
		{"labels alone", Selection{Only: "labels"}, nil, `phase "labels" runs only with the phases that need it (init, finish-init, join-masters, join-nodes)`},
		{"unknown phase", Selection{Only: "stag"}, nil, `unknown phase "stag"; valid: preflight, stage, reset-half-joined, init,`},
		{"unknown skip", Selection{Skip: []string{"bogus"}}, nil, `--skip-phases: unknown phase "bogus"; valid: preflight, stage,`},
		{"plumbing alone", Selection{Only: "connect"}, nil, `phase "connect" always runs`},
		{"plumbing skipped", Selection{Skip: []string{"decide"}}, nil, `--skip-phases: phase "decide" always runs`},
		{"join info alone", Selection{Only: "join-info"}, nil, `phase "join-info" runs only with the phases that need it (join-masters, join-nodes)`},
		{"join info skipped while joins run", Selection{Skip: []string{"join-info"}}, nil, "--skip-phases join-info: join-masters needs it"},
		{"a title is not a name", Selection{Only: "join nodes"}, nil, `unknown phase "join nodes"`},
		{"both ways at once", Selection{Only: "stage", Skip: []string{"init"}}, nil, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := Select(UpPhases(), tt.sel)
			if tt.wantErr != "" {
				var se *SelectionError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &se) {
					t.Fatalf("Select = %v, want a SelectionError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ranTitles(list); !slices.Equal(got, tt.want) {
				t.Errorf("runs %v\nwant %v", got, tt.want)
			}
			if tt.sel.Partial() {
				if i := slices.IndexFunc(list, func(p Phase) bool { _, ok := p.(*controlCheck); return ok }); i < 1 || list[i-1].Title() != "decide" {
					t.Errorf("the control check must come right after decide: %v", titles(list))
				}
				if len(list) != len(UpPhases())+1 {
					t.Errorf("left-out phases must stay in the list (their CleanUp): %v", titles(list))
				}
			}
		})
	}
}

// hashingRemote is the fake remote with real file contents: stage's uploads
// keep the bytes (and skip when they match, as pkg/ssh does) and the staged
// check's sha256 script is answered from them.
type hashingRemote struct{ fakeRemote }

func (r hashingRemote) Upload(ctx context.Context, local, path string, mode os.FileMode, progress func(done, total int64)) (bool, error) {
	data, err := os.ReadFile(local)
	if err != nil {
		return false, err
	}
	r.h.mu.Lock()
	old, ok := r.h.files[path]
	r.h.mu.Unlock()
	if ok && string(old) == string(data) {
		return true, nil
	}
	return false, r.UploadBytes(ctx, data, path, mode)
}

func (r hashingRemote) Run(ctx context.Context, cmd string, out io.Writer) ([]byte, error) {
	if !strings.Contains(cmd, "openssl dgst -sha256") {
		return r.fakeRemote.Run(ctx, cmd, out)
	}
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.log = append(r.h.log, cmd)
	var b strings.Builder
	for path, data := range r.h.files {
		if strings.Contains(cmd, " "+path+" ") || strings.Contains(cmd, " "+path+";") {
			b.WriteString(sha256Hex(data) + " " + path + "\n")
		}
	}
	return []byte(b.String()), nil
}

// stagedLab is a run over the lab's hosts through hashingRemote, with a
// package and an edgeadm of distinct contents.
func (lab *fakeLab) stagedState(t *testing.T) *State {
	t.Helper()
	s := lab.state(t, nil)
	if err := os.WriteFile(s.Package, []byte("the package"), 0o644); err != nil {
		t.Fatal(err)
	}
	byAddr := map[string]*fakeHost{}
	for _, h := range lab.hosts {
		byAddr[h.addr] = h
	}
	s.Dial = func(ctx context.Context, h *inventory.Host) (Remote, error) {
		return hashingRemote{fakeRemote{h: byAddr[h.Address], c: lab.c}}, nil
	}
	return s
}

// runSelected runs up's phases as sel picks them, as `edgeops up` does.
func (lab *fakeLab) runSelected(t *testing.T, sel Selection) (*State, []Phase, error) {
	t.Helper()
	list, err := Select(UpPhases(), sel)
	if err != nil {
		t.Fatalf("select %+v: %v", sel, err)
	}
	s := lab.stagedState(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s, list, Run(ctx, s, list)
}

func clearLogs(lab *fakeLab) {
	for _, h := range lab.hosts {
		h.mu.Lock()
		h.log = nil
		h.mu.Unlock()
	}
}

func assertNoClusterWork(t *testing.T, lab *fakeLab) {
	t.Helper()
	for _, h := range lab.hosts {
		for _, c := range h.commands() {
			for _, m := range []string{EdgeadmPath + " init", EdgeadmPath + " join", " token create ", "reset --force", "kubectl"} {
				if strings.Contains(c, m) {
					t.Errorf("%s: ran %q", h.addr, firstLine(c))
				}
			}
		}
		if h.has(joininfo.DefaultPath) || h.has(DoneMarker) || h.has(kubeletConf) {
			t.Errorf("%s: cluster files after a run that should not touch the cluster", h.addr)
		}
	}
	if lab.c.minted != 0 || lab.c.ca != "" {
		t.Errorf("cluster touched: %d tokens minted, CA %q", lab.c.minted, lab.c.ca)
	}
}

// Phase control against fake hosts: each scenario runs a sequence of
// selections, as an operator would over an afternoon and a night.
func TestPhaseControlScenarios(t *testing.T) {
	three := []inventory.Role{master, edge, worker}
	tests := []struct {
		name  string
		roles []inventory.Role
		setup func(lab *fakeLab)
		run   func(t *testing.T, lab *fakeLab)
	}{
		{"stage alone stages, verified, and nothing else; a second run sends nothing", three, nil,
			func(t *testing.T, lab *fakeLab) {
				s, list, err := lab.runSelected(t, Selection{Only: "stage"})
				if err != nil {
					t.Fatalf("up phase stage: %v", err)
				}
				for _, h := range lab.hosts {
					if !h.has(EdgeadmPath) || !h.has(PackagesDir+"/edgeops-bundle-v1.34.4-linux-amd64.tar.gz") {
						t.Errorf("%s: not staged: %v", h.addr, h.commands())
					}
				}
				assertNoClusterWork(t, lab)
				rows := PartialRows(s, list, Rows(s, "failed"))
				for _, r := range rows {
					if r.Status != "staged" || !strings.Contains(r.Detail, "still to run:") {
						t.Errorf("%s: summary %q %q, want staged and what is left", r.Host, r.Status, r.Detail)
					}
				}
				if !Pending(s, list) {
					t.Errorf("after staging alone the cluster is still to be made: Pending = false")
				}
				clearLogs(lab)
				s, list, err = lab.runSelected(t, Selection{Only: "stage"})
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range lab.hosts {
					if h.ran("upload ") {
						t.Errorf("%s: a second stage sent files again", h.addr)
					}
				}
				for _, r := range PartialRows(s, list, Rows(s, "failed")) {
					if r.Status != "staged" || !strings.Contains(r.Detail, "already staged") {
						t.Errorf("%s: second run summary %q %q", r.Host, r.Status, r.Detail)
					}
				}
			}},
		{"skip stage after staging: the cluster comes up, nothing sent again, no token left", three, nil,
			func(t *testing.T, lab *fakeLab) {
				if _, _, err := lab.runSelected(t, Selection{Only: "stage"}); err != nil {
					t.Fatal(err)
				}
				clearLogs(lab)
				s, list, err := lab.runSelected(t, Selection{Skip: []string{"stage"}})
				if err != nil {
					t.Fatalf("up --skip-phases stage: %v", err)
				}
				for _, h := range lab.hosts {
					if !h.has(DoneMarker) || !lab.c.nodes[h.hostname] {
						t.Errorf("%s: not a finished member", h.addr)
					}
					if h.ran("upload " + EdgeadmPath) {
						t.Errorf("%s: stage ran although skipped", h.addr)
					}
					if !h.ran("openssl dgst -sha256") {
						t.Errorf("%s: staged files not verified before use", h.addr)
					}
				}
				if len(lab.c.tokens) != 0 {
					t.Errorf("tokens left valid: %v", lab.c.tokens)
				}
				if Pending(s, list) {
					t.Errorf("Pending after a complete run")
				}
			}},
		{"skip stage on hosts never staged: refused before anything changes", three, nil,
			func(t *testing.T, lab *fakeLab) {
				_, _, err := lab.runSelected(t, Selection{Skip: []string{"stage"}})
				if err == nil || !strings.Contains(err.Error(), "not staged") || !strings.Contains(err.Error(), EdgeadmPath+" is missing") ||
					!strings.Contains(err.Error(), "edgeops up phase stage") {
					t.Fatalf("up --skip-phases stage = %v, want a refusal naming the missing files and the way out", err)
				}
				for _, h := range lab.hosts {
					assertUntouched(t, h)
				}
				assertNoClusterWork(t, lab)
			}},
		{"skip stage with one host's package changed since: refused, nobody touched", three, nil,
			func(t *testing.T, lab *fakeLab) {
				if _, _, err := lab.runSelected(t, Selection{Only: "stage"}); err != nil {
					t.Fatal(err)
				}
				lab.hosts[2].files[PackagesDir+"/edgeops-bundle-v1.34.4-linux-amd64.tar.gz"] = []byte("truncated")
				clearLogs(lab)
				_, _, err := lab.runSelected(t, Selection{Skip: []string{"stage"}})
				if err == nil || !strings.Contains(err.Error(), "host 10.0.0.3") || !strings.Contains(err.Error(), "differs") {
					t.Fatalf("up --skip-phases stage = %v, want host 10.0.0.3's package named", err)
				}
				for _, h := range lab.hosts {
					assertUntouched(t, h)
				}
			}},
		{"init alone: the leader only, its join token deleted; join-nodes alone then joins with fresh join info", three, nil,
			func(t *testing.T, lab *fakeLab) {
				if _, _, err := lab.runSelected(t, Selection{Only: "stage"}); err != nil {
					t.Fatal(err)
				}
				clearLogs(lab)
				if _, _, err := lab.runSelected(t, Selection{Only: "init"}); err != nil {
					t.Fatalf("up phase init: %v", err)
				}
				if !lab.hosts[0].has(DoneMarker) || lab.hosts[0].has(joininfo.DefaultPath) || len(lab.c.tokens) != 0 {
					t.Errorf("after init alone: done=%v join info left=%v tokens=%v", lab.hosts[0].has(DoneMarker), lab.hosts[0].has(joininfo.DefaultPath), lab.c.tokens)
				}
				for _, h := range lab.hosts[1:] {
					if h.ran(EdgeadmPath+" join") || h.ran("upload ") || h.ran("openssl dgst") || h.has(kubeletConf) {
						t.Errorf("%s: touched by init alone", h.addr)
					}
				}
				if _, _, err := lab.runSelected(t, Selection{Only: "join-nodes"}); err != nil {
					t.Fatalf("up phase join-nodes: %v", err)
				}
				for _, h := range lab.hosts[1:] {
					if !h.has(DoneMarker) || len(h.joinSeen) != 1 || h.joinSeen[0].CertificateKey != "" {
						t.Errorf("%s: not joined with its own join information", h.addr)
					}
				}
				if len(lab.c.tokens) != 0 {
					t.Errorf("tokens left valid: %v", lab.c.tokens)
				}
			}},
		{"joins without a cluster and without init: refused by name", three,
			func(lab *fakeLab) {
				for _, h := range lab.hosts {
					h.files[EdgeadmPath] = []byte("x")
				}
			},
			func(t *testing.T, lab *fakeLab) {
				for _, sel := range []Selection{{Only: "join-nodes"}, {Skip: []string{"init"}}} {
					_, _, err := lab.runSelected(t, sel)
					if err == nil || !strings.Contains(err.Error(), "has no cluster yet") || !strings.Contains(err.Error(), "join-nodes") {
						t.Errorf("%+v: %v, want a refusal naming the phases that need init", sel, err)
					}
				}
				assertNoClusterWork(t, lab)
			}},
		{"a half-joined host is not joined when its reset is skipped", []inventory.Role{master, edge},
			func(lab *fakeLab) {
				clusterUp(lab, true)
				lab.hosts[1].wipe()
				lab.hosts[1].files["/var/lib/kubelet/config.yaml"] = nil
			},
			func(t *testing.T, lab *fakeLab) {
				_, _, err := lab.runSelected(t, Selection{Skip: []string{"reset-half-joined"}})
				if err == nil || !strings.Contains(err.Error(), "10.0.0.2 half-joined") {
					t.Fatalf("up --skip-phases reset-half-joined = %v", err)
				}
				assertUntouched(t, lab.hosts[1])
			}},
		{"join-nodes alone labels the hosts it joined (a later up finds them done)", []inventory.Role{master, edge},
			func(lab *fakeLab) {
				clusterUp(lab, true)
				lab.hosts[1].wipe()
				lab.hosts[1].files[EdgeadmPath] = []byte("x")
				lab.inv.Hosts[1].Labels = map[string]string{"site": "a"}
			},
			func(t *testing.T, lab *fakeLab) {
				if _, _, err := lab.runSelected(t, Selection{Only: "stage"}); err != nil {
					t.Fatal(err)
				}
				s, list, err := lab.runSelected(t, Selection{Only: "join-nodes"})
				if err != nil {
					t.Fatal(err)
				}
				if !lab.hosts[0].ran("label node n2 --overwrite node-role.kubernetes.io/edge= site=a") {
					t.Errorf("the joined node was not labelled: %q", lab.hosts[0].commands())
				}
				rows := PartialRows(s, list, Rows(s, "failed"))
				if rows[1].Status != "joined" || !strings.Contains(rows[1].Detail, "still to run: ready") {
					t.Errorf("edge row %+v", rows[1])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newFakeLab(tt.roles...)
			if tt.setup != nil {
				tt.setup(lab)
			}
			tt.run(t, lab)
		})
	}
}

func TestAddNodeSkipStage(t *testing.T) {
	lab := newFakeLab(master, edge)
	clusterUp(lab, true)
	lab.hosts[1].wipe()
	list, err := Select(AddNodePhases(), Selection{Skip: []string{"stage"}})
	if err != nil {
		t.Fatal(err)
	}
	s := lab.stagedState(t)
	s.Targets = map[string]bool{"10.0.0.2": true}
	err = Run(context.Background(), s, list)
	if err == nil || !strings.Contains(err.Error(), "host 10.0.0.2") || !strings.Contains(err.Error(), "not staged") {
		t.Fatalf("add-node --skip-phases stage on an unstaged host = %v", err)
	}
	assertUntouched(t, lab.hosts[1])
}
