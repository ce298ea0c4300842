package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
)

const testImage = "registry.k8s.io/pause:3.10.1"

// testMembers returns a small but real package: binaries, a config and an
// image archive built with go-containerregistry.
func testMembers(t *testing.T) []Member {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(testImage)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "pause.tar")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	return []Member{
		{Path: "bin/kubelet", Mode: 0o755, Data: bytes.Repeat([]byte("kubelet-binary"), 5000)},
		{Path: "bin/edgeadm", Mode: 0o755, Data: []byte("#!edgeadm\n")},
		{Path: "config/sysctl-k8s.conf", Mode: 0o644, Data: []byte("net.ipv4.ip_forward = 1\n")},
		{Path: "images/pause.tar", Mode: 0o644, Source: archive},
	}
}

func testBase() Manifest {
	return Manifest{
		KubernetesVersion: "v1.34.4", OS: "linux", Arch: "amd64",
		Components: []Component{{Name: "kubelet", Version: "v1.34.4"}, {Name: "pause", Version: "3.10.1"}},
		Images:     []Image{{Name: testImage, File: "images/pause.tar"}},
	}
}

func packTest(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), FileName("v1.34.4", "amd64"))
	if _, err := Pack(context.Background(), out, testBase(), testMembers(t)); err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return out
}

func TestPackOpenVerifyExtractReadFile(t *testing.T) {
	ctx := context.Background()
	pkg := packTest(t)
	b, err := Open(pkg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	m := b.Manifest()
	if m.KubernetesVersion != "v1.34.4" || len(m.Files) != 4 || len(m.Images) != 1 {
		t.Fatalf("manifest = %+v", m)
	}
	if v, ok := m.Component("pause"); !ok || v != "3.10.1" {
		t.Errorf("Component(pause) = %q, %v", v, ok)
	}
	if err := Verify(ctx, pkg); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	dir := t.TempDir()
	if err := Extract(ctx, pkg, dir); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	for _, f := range m.Files {
		p := filepath.Join(dir, f.Path)
		sum, size, err := FileSHA256(p)
		if err != nil || sum != f.SHA256 || size != f.Size {
			t.Errorf("%s: sha %s size %d err %v, want %s %d", f.Path, sum, size, err, f.SHA256, f.Size)
		}
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != os.FileMode(f.Mode) {
			t.Errorf("%s: mode %v, want %o", f.Path, st.Mode(), f.Mode)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		t.Errorf("extract did not write %s: %v", ManifestName, err)
	}
	got, err := ReadFile(ctx, pkg, "bin/edgeadm")
	if err != nil || string(got) != "#!edgeadm\n" {
		t.Errorf("ReadFile(bin/edgeadm) = %q, %v", got, err)
	}
	if _, err := ReadFile(ctx, pkg, "bin/nothere"); err == nil || !strings.Contains(err.Error(), "bin/nothere") {
		t.Errorf("ReadFile(missing) err = %v, want one naming the member", err)
	}
	raw, err := ReadFile(ctx, pkg, ManifestName)
	if err != nil || !bytes.Equal(raw, b.RawManifest()) {
		t.Errorf("ReadFile(%s) = %v", ManifestName, err)
	}
}

func TestPackIsReproducible(t *testing.T) {
	members := testMembers(t)
	var sums []string
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "b.tar.gz")
		if _, err := Pack(context.Background(), out, testBase(), members); err != nil {
			t.Fatal(err)
		}
		sum, _, err := FileSHA256(out)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		t.Errorf("same inputs gave %s and %s", sums[0], sums[1])
	}
}

// TestTruncatedRefused cuts the package at many points: every cut must be
// refused by Verify and Extract with ErrTruncated or ErrCorrupt and a message
// naming the package.
func TestTruncatedRefused(t *testing.T) {
	pkg := packTest(t)
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	cuts := map[string]int{
		"header only": 5, "tenth": len(data) / 10, "half": len(data) / 2,
		"most": len(data) * 9 / 10, "trailer": len(data) - 4, "last byte": len(data) - 1,
	}
	for label, n := range cuts {
		t.Run(label, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cut.tar.gz")
			if err := os.WriteFile(p, data[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			for op, run := range map[string]func() error{
				"verify":  func() error { return Verify(context.Background(), p) },
				"extract": func() error { return Extract(context.Background(), p, t.TempDir()) },
			} {
				err := run()
				if err == nil {
					t.Fatalf("%s accepted a package cut to %d of %d bytes", op, n, len(data))
				}
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s: err %v is neither ErrTruncated nor ErrCorrupt", op, err)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%s: err %v does not name the package", op, err)
				}
			}
		})
	}
}

func TestCorruptedRefused(t *testing.T) {
	pkg := packTest(t)
	good, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	raw := b.RawManifest()
	kubelet := bytes.Repeat([]byte("kubelet-binary"), 5000)
	tampered := append([]byte(nil), kubelet...)
	tampered[100] ^= 0xff
	imgFile, _ := b.Manifest().File("images/pause.tar")
	garbageImage := bytes.Repeat([]byte{'x'}, 2048)

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x55

	tests := []struct {
		name    string
		data    []byte
		want    error
		mention string
	}{
		{"byte flipped in the compressed stream", flipped, nil, ""},
		{"not gzip", []byte("this is not a package"), ErrCorrupt, "gzip"},
		{"member content changed", rawPackage(t, rawMember{name: ManifestName, data: raw}, rawMember{name: "bin/kubelet", data: tampered}), ErrCorrupt, "bin/kubelet"},
		{"member not in manifest", rawPackage(t, rawMember{name: ManifestName, data: raw}, rawMember{name: "bin/extra", data: []byte("x")}), ErrCorrupt, "bin/extra"},
		{"manifest not first", rawPackage(t, rawMember{name: "bin/kubelet", data: kubelet}, rawMember{name: ManifestName, data: raw}), ErrCorrupt, ManifestName},
		{"path escapes", rawPackage(t, rawMember{name: ManifestName, data: raw}, rawMember{name: "../evil", data: []byte("x")}), ErrCorrupt, "../evil"},
		{"symlink member", rawPackage(t, rawMember{name: ManifestName, data: raw}, rawMember{name: "bin/kubelet", link: "/etc/passwd"}), ErrCorrupt, "bin/kubelet"},
		{"manifest garbage", rawPackage(t, rawMember{name: ManifestName, data: []byte("apiVersion: [")}), ErrCorrupt, ManifestName},
		{"members missing", rawPackage(t, rawMember{name: ManifestName, data: raw}), ErrTruncated, "missing"},
		{"image archive does not load", rawPackage(t,
			rawMember{name: ManifestName, data: replaceFile(t, raw, imgFile, garbageImage)},
			rawMember{name: "bin/edgeadm", data: []byte("#!edgeadm\n")},
			rawMember{name: "bin/kubelet", data: kubelet},
			rawMember{name: "config/sysctl-k8s.conf", data: []byte("net.ipv4.ip_forward = 1\n")},
			rawMember{name: "images/pause.tar", data: garbageImage}), ErrCorrupt, testImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.tar.gz")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := Verify(context.Background(), p)
			if err == nil {
				t.Fatal("Verify accepted a corrupted package")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) {
				t.Errorf("err = %v, want ErrCorrupt or ErrTruncated", err)
			}
			if !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want it to name %q and the package", err, tc.mention)
			}
		})
	}
}

func TestExtractRefusesEscape(t *testing.T) {
	raw := mustManifest(t, Manifest{KubernetesVersion: "v1.34.4", OS: "linux", Arch: "amd64"})
	root := t.TempDir()
	p := filepath.Join(root, "evil.tar.gz")
	data := rawPackage(t, rawMember{name: ManifestName, data: raw}, rawMember{name: "../outside", data: []byte("pwned")})
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(root, "dest")
	if err := Extract(context.Background(), p, dest); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Extract err = %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(filepath.Join(root, "outside")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the destination: %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"valid octal mode", validYAML("0755"), ""},
		{"0o mode", validYAML("0o755"), ""},
		{"bad mode", validYAML("0999"), "mode"},
		{"unknown field", validYAML("0755") + "extra: 1\n", "extra"},
		{"bad kind", strings.Replace(validYAML("0755"), "kind: Bundle", "kind: Other", 1), "kind"},
		{"bad sha", strings.Replace(validYAML("0755"), strings.Repeat("a", 64), "abc", 1), "sha256"},
		{"image without file", validYAML("0755") + "images:\n  - {name: x:1, file: images/x.tar}\n", "images/x.tar"},
		{"absolute path", strings.Replace(validYAML("0755"), "bin/kubelet", "/bin/kubelet", 1), "absolute"},
		{"image-less", validYAML("0755") + "imageSource: registry\nregistryImages: [registry.k8s.io/pause:3.10.2]\n", ""},
		{"image-less with images", validYAML("0755") + "imageSource: registry\nimages:\n  - {name: x:1, file: bin/kubelet}\n", "must carry no images"},
		{"registry images in a full package", validYAML("0755") + "registryImages: [x:1]\n", "only with imageSource"},
		{"unknown image source", validYAML("0755") + "imageSource: ftp\n", `imageSource "ftp"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Files[0].Mode != 0o755 {
				t.Errorf("mode = %o, want 755", m.Files[0].Mode)
			}
			out, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "mode: 0755") {
				t.Errorf("marshalled manifest lacks octal mode:\n%s", out)
			}
			if _, err := ParseManifest(out); err != nil {
				t.Errorf("re-parse: %v", err)
			}
		})
	}
}

func validYAML(mode string) string {
	return "apiVersion: edgeops.io/v1\nkind: Bundle\nkubernetesVersion: v1.34.4\nos: linux\narch: amd64\n" +
		"components:\n  - {name: kubelet, version: v1.34.4}\n" +
		"files:\n  - {path: bin/kubelet, sha256: " + strings.Repeat("a", 64) + ", size: 3, mode: " + mode + "}\n"
}

type rawMember struct {
	name string
	data []byte
	link string
}

// rawPackage writes members as given, bypassing Pack's checks, to build
// packages that are wrong on purpose.
func rawPackage(t *testing.T, members ...rawMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		if m.link != "" {
			hdr = &tar.Header{Name: m.name, Linkname: m.link, Typeflag: tar.TypeSymlink, Mode: 0o777}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// replaceFile rewrites one manifest entry so its hash and size match data.
func replaceFile(t *testing.T, raw []byte, f File, data []byte) []byte {
	t.Helper()
	m, err := ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Files {
		if m.Files[i].Path == f.Path {
			h := newHasher()
			h.Write(data)
			m.Files[i].SHA256, m.Files[i].Size = h.hex(), int64(len(data))
		}
	}
	return mustManifest(t, *m)
}

func mustManifest(t *testing.T, m Manifest) []byte {
	t.Helper()
	m.APIVersion, m.Kind = APIVersion, Kind
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
