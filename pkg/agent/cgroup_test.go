package agent

import (
	"bytes"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
)

func TestAdaptToCgroupVersion(t *testing.T) {
	tests := []struct {
		name        string
		version     int
		ignore      []string
		patches     *kubeadmv1.Patches
		user        map[string][]byte
		wantIgnore  []string
		wantPatches *kubeadmv1.Patches
		wantFiles   []string
	}{
		{name: "cgroup v2: nothing relaxed", version: 2, ignore: []string{"Swap"},
			wantIgnore: []string{"Swap"}},
		{name: "cgroup v2 keeps the user's patches", version: 2, patches: &kubeadmv1.Patches{Directory: "/etc/p"},
			wantPatches: &kubeadmv1.Patches{Directory: "/etc/p"}},
		{name: "cgroup v1: SystemVerification skipped, kubelet patched", version: 1, ignore: []string{"Swap"},
			wantIgnore: []string{"Swap", "SystemVerification"}, wantPatches: &kubeadmv1.Patches{Directory: PatchesDir},
			wantFiles: []string{cgroupV1PatchFile}},
		{name: "cgroup v1: the user's ignore-all is enough", version: 1, ignore: []string{"all"},
			wantIgnore: []string{"all"}, wantPatches: &kubeadmv1.Patches{Directory: PatchesDir}, wantFiles: []string{cgroupV1PatchFile}},
		{name: "cgroup v1: the user's patches are carried over", version: 1, ignore: []string{"systemverification"},
			patches:    &kubeadmv1.Patches{Directory: "/etc/p"},
			user:       map[string][]byte{"kube-apiserver+json.yaml": []byte("[]"), "kubeletconfiguration+merge.yaml": []byte("maxPods: 50\n")},
			wantIgnore: []string{"systemverification"}, wantPatches: &kubeadmv1.Patches{Directory: PatchesDir},
			wantFiles: []string{cgroupV1PatchFile, "kube-apiserver+json.yaml", "kubeletconfiguration+merge.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nr := kubeadmv1.NodeRegistrationOptions{IgnorePreflightErrors: tt.ignore}
			patches := tt.patches
			s := AdaptToCgroupVersion(tt.version, &nr, &patches, tt.user)
			if !reflect.DeepEqual(nr.IgnorePreflightErrors, tt.wantIgnore) {
				t.Errorf("ignorePreflightErrors = %v, want %v", nr.IgnorePreflightErrors, tt.wantIgnore)
			}
			if !reflect.DeepEqual(patches, tt.wantPatches) {
				t.Errorf("patches = %+v, want %+v", patches, tt.wantPatches)
			}
			var files []string
			for name := range s.Patches {
				files = append(files, name)
			}
			if len(files) != len(tt.wantFiles) {
				t.Fatalf("patch files %v, want %v", files, tt.wantFiles)
			}
			for _, f := range tt.wantFiles {
				if _, ok := s.Patches[f]; !ok {
					t.Errorf("patch file %s missing from %v", f, files)
				}
			}
			if tt.version == 1 {
				if got := string(s.Patches[cgroupV1PatchFile]); got != "failCgroupV1: false\n" {
					t.Errorf("kubelet patch %q", got)
				}
				for name, data := range tt.user {
					if !bytes.Equal(s.Patches[name], data) {
						t.Errorf("user patch %s changed: %q", name, s.Patches[name])
					}
				}
			}
		})
	}
}

// TestCgroupPatchSortsLast: kubeadm applies a target's patch files in name
// order, so edgeadm's must come after any the user names for the kubelet.
func TestCgroupPatchSortsLast(t *testing.T) {
	for _, user := range []string{"kubeletconfiguration+merge.yaml", "kubeletconfiguration+strategic.json", "kubeletconfiguration0.yaml", "kubeletconfiguration-mine+json.yaml"} {
		if user >= cgroupV1PatchFile {
			t.Errorf("the user's %s sorts after edgeadm's %s", user, cgroupV1PatchFile)
		}
	}
}

// TestCgroupVersionOfThisMachine compares the detection with stat(1).
func TestCgroupVersionOfThisMachine(t *testing.T) {
	out, err := exec.Command("stat", "-fc", "%T", "/sys/fs/cgroup").Output()
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	want := 1
	if strings.TrimSpace(string(out)) == "cgroup2fs" {
		want = 2
	}
	got, err := CgroupVersion(NewHost(&bytes.Buffer{}))
	if err != nil || got != want {
		t.Fatalf("CgroupVersion = %d, %v; stat says %s (want %d)", got, err, out, want)
	}
}
