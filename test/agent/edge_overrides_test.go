//go:build e2e

package agent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	edgeagent "github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/bundle"
)

// Where the test puts edge YAML folders on the hosts (/var/lib/edgeops, as
// edgeops does; the snapshot leaves it out).
const (
	defaultsDir  = "/var/lib/edgeops/edge-defaults"
	overridesDir = "/var/lib/edgeops/edge-overrides"
	badEdgeDir   = "/var/lib/edgeops/edge-bad"
	addedFile    = "zz-edgeops-test.yml"
	addedCM      = "edgeops-test-added"
	replacedMark = "edgeops.io/test"
)

// object is one object of an edge YAML file, as kubectl names it.
type object struct{ kind, namespace, name string }

func (o object) get() string {
	s := "get " + o.kind + " " + o.name
	if o.namespace != "" {
		s += " -n " + o.namespace
	}
	return s
}

// overrides is what the test's --edge-manifests-dir changed.
type overrides struct {
	replacedFile, removedFile string
	replaced                  []object        // objects of the replaced file, now labelled
	removedObjs               []object        // every object of the removed file
	removed                   map[string]bool // Kind/name of the removed file's objects
}

func (ov overrides) logLine() string {
	return "replaced " + ov.replacedFile + "; added " + addedFile + "; removed " + ov.removedFile
}

// edgeOverrides runs 'edgeadm manifests' on the master, checks it wrote the
// package's edge YAML unchanged and refuses to overwrite it, then builds a
// folder from it (whatever today's components are called): the last file
// replaced (its objects labelled), the first emptied,
// a ConfigMap with both placeholders added. The folder goes to both hosts.
func (l *lab) edgeOverrides(ctx context.Context, pkg string) overrides {
	l.t.Helper()
	l.must(ctx, master, "rm -rf "+defaultsDir+" "+overridesDir)
	out, _ := l.timed(ctx, master, "edgeadm manifests", remoteEdgeadm+" manifests --output-dir "+defaultsDir+" --install-pkg-path "+pkg+" 2>&1")
	if !strings.Contains(out, "file(s) to "+defaultsDir) || !strings.Contains(out, "--edge-manifests-dir") {
		l.t.Errorf("edgeadm manifests output:\n%s", out)
	}
	if out, err := l.run(ctx, master, remoteEdgeadm+" manifests --output-dir "+defaultsDir+" --install-pkg-path "+pkg+" 2>&1"); err == nil || !strings.Contains(out, "already holds") {
		l.t.Errorf("a second edgeadm manifests into the same folder: %v\n%s", err, out)
	}
	want, err := bundle.ReadFiles(ctx, l.bundle, "manifests/edge/")
	if err != nil {
		l.t.Fatal(err)
	}
	names := strings.Fields(l.must(ctx, master, "ls "+defaultsDir))
	if len(names) != len(want) {
		l.t.Errorf("edgeadm manifests wrote %v; the package has %d edge files", names, len(want))
	}
	var cands []string
	objs := map[string][]*edgeObj{}
	for _, n := range names {
		data := l.must(ctx, master, "cat "+defaultsDir+"/"+n)
		if data != string(want["manifests/edge/"+n]) {
			l.t.Errorf("%s on the host differs from the package's", n)
		}
		us, err := edgeagent.SplitObjects([]byte(data))
		if err != nil {
			l.t.Fatalf("%s: %v", n, err)
		}
		for _, u := range us {
			objs[n] = append(objs[n], &edgeObj{u.Object, object{u.GetKind(), u.GetNamespace(), u.GetName()}})
		}
		if len(us) > 0 {
			cands = append(cands, n)
		}
	}
	sort.Strings(cands)
	if len(cands) < 2 {
		l.t.Fatalf("the package's edge YAML has %d file(s) with objects (%v); the test needs two", len(cands), cands)
	}
	// The last file (the edge DaemonSets' kubeconfig, which init needs) is
	// replaced, the first (edge-proxy's RBAC, which it can do without) removed.
	ov := overrides{replacedFile: cands[len(cands)-1], removedFile: cands[0], removed: map[string]bool{}}
	var replaced bytes.Buffer
	for _, o := range objs[ov.replacedFile] {
		o.label(replacedMark, "replaced")
		ov.replaced = append(ov.replaced, o.object)
		b, err := yaml.Marshal(o.raw)
		if err != nil {
			l.t.Fatal(err)
		}
		replaced.WriteString("---\n")
		replaced.Write(b)
	}
	for _, o := range objs[ov.removedFile] {
		ov.removedObjs = append(ov.removedObjs, o.object)
		ov.removed[o.kind+"/"+o.name] = true
	}
	local := l.t.TempDir()
	files := map[string]string{
		ov.replacedFile: replaced.String(),
		ov.removedFile:  "",
		addedFile: "# added by the agent test\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + addedCM + "\n  namespace: kube-system\n" +
			"data:\n  image: __IMAGE_REPOSITORY__/probe:v1\n  apiServer: \"__API_SERVER__\"\n",
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(local, n), []byte(data), 0o600); err != nil {
			l.t.Fatal(err)
		}
		for _, h := range []string{master, worker} {
			l.upload(ctx, h, filepath.Join(local, n), overridesDir+"/"+n, "0600")
		}
	}
	l.t.Logf("edge overrides: %s", ov.logLine())
	return ov
}

// edgeObj is an object of a package file, to be relabelled.
type edgeObj struct {
	raw map[string]any
	object
}

func (o *edgeObj) label(k, v string) {
	md, _ := o.raw["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		o.raw["metadata"] = md
	}
	labels, _ := md["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		md["labels"] = labels
	}
	labels[k] = v
}

// refuseBadEdgeDir: init with a folder holding a broken YAML and a non-YAML
// file fails naming both, and the host is as before.
func (l *lab) refuseBadEdgeDir(ctx context.Context, pkg, before string) {
	l.t.Helper()
	local := l.t.TempDir()
	for n, data := range map[string]string{"broken.yaml": "apiVersion: v1\nkind: [ConfigMap\n", "notes.txt": "my notes\n"} {
		if err := os.WriteFile(filepath.Join(local, n), []byte(data), 0o600); err != nil {
			l.t.Fatal(err)
		}
		l.upload(ctx, master, filepath.Join(local, n), badEdgeDir+"/"+n, "0600")
	}
	out, err := l.run(ctx, master, remoteEdgeadm+" init --install-pkg-path "+pkg+" --runtime-binary "+runtimeBinary+
		" --skip-token-print --apiserver-advertise-address "+master+" --edge-manifests-dir "+badEdgeDir+" 2>&1")
	l.t.Logf("init with a bad --edge-manifests-dir: %v\n%s", err, out)
	for _, w := range []string{"--edge-manifests-dir " + badEdgeDir, badEdgeDir + "/broken.yaml: does not parse as YAML: yaml: line ",
		badEdgeDir + "/notes.txt: not a .yaml or .yml file", "nothing was applied"} {
		if err == nil || !strings.Contains(out, w) {
			l.t.Errorf("init with a bad folder: want an error with %q; got %v:\n%s", w, err, out)
		}
	}
	l.must(ctx, master, "rm -rf "+badEdgeDir)
	l.assertClean(ctx, master, before, "after init refused a bad --edge-manifests-dir")
}

// checkOverrides: what the folder changed is what is in the cluster.
func (l *lab) checkOverrides(ctx context.Context, ov overrides) {
	l.t.Helper()
	for _, o := range ov.replaced {
		if got := strings.TrimSpace(l.kubectl(ctx, o.get()+` -o jsonpath='{.metadata.labels.edgeops\.io/test}'`)); got != "replaced" {
			l.t.Errorf("%s/%s from the replaced %s: label %s=%q, want replaced (the package's file was applied?)", o.kind, o.name, ov.replacedFile, replacedMark, got)
		}
	}
	for _, o := range ov.removedObjs {
		if got := strings.TrimSpace(l.kubectl(ctx, o.get()+" --ignore-not-found -o name")); got != "" {
			l.t.Errorf("%s of the removed (empty) %s is in the cluster: %s", o.get(), ov.removedFile, got)
		}
	}
	got := strings.TrimSpace(l.kubectl(ctx, "-n kube-system get configmap "+addedCM+" -o jsonpath='{.data.image} {.data.apiServer}'"))
	if want := edgeagent.DefaultImageRepository + "/probe:v1 " + master + ":6443"; got != want {
		l.t.Errorf("added %s: ConfigMap %s holds %q, want %q (placeholders filled in)", addedFile, addedCM, got, want)
	}
	l.t.Logf("in the cluster: %d object(s) of %s relabelled, %d object(s) of %s absent, %s added with %q",
		len(ov.replaced), ov.replacedFile, len(ov.removedObjs), ov.removedFile, addedCM, got)
}
