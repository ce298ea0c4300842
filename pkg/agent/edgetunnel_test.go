package agent

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/server/egressselector"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"k8s.io/kubernetes/cmd/kubeadm/app/util/pkiutil"

	"github.com/edgeops/edgeops/pkg/contract"
)

// The egress file is read and validated by kube-apiserver's own loader.
func TestEgressSelectorYAMLIsValid(t *testing.T) {
	h := &Host{Root: t.TempDir(), Log: &bytes.Buffer{}}
	if err := WriteEgressSelector(h); err != nil {
		t.Fatal(err)
	}
	cfg, err := egressselector.ReadEgressSelectorConfiguration(h.Path(contract.EgressSelectorConfigFile))
	if err != nil {
		t.Fatalf("kube-apiserver would not read it: %v", err)
	}
	if errs := egressselector.ValidateEgressSelectorConfiguration(cfg); len(errs) > 0 {
		t.Fatalf("kube-apiserver would refuse it: %v", errs.ToAggregate())
	}
	if len(cfg.EgressSelections) != 1 || cfg.EgressSelections[0].Name != "cluster" ||
		cfg.EgressSelections[0].Connection.Transport.UDS.UDSName != contract.EdgeTunnelSocket {
		t.Fatalf("want only the cluster egress over %s, got %+v", contract.EdgeTunnelSocket, cfg.EgressSelections)
	}
}

func TestApplyTunnelEgress(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        []kubeadmv1.Arg
		wantApplied bool
		wantArg     string
	}{
		{name: "fresh", wantApplied: true, wantArg: contract.EgressSelectorConfigFile},
		{name: "already ours (a re-run)", args: []kubeadmv1.Arg{{Name: egressSelectorFlag, Value: contract.EgressSelectorConfigFile}}, wantApplied: true, wantArg: contract.EgressSelectorConfigFile},
		{name: "the user's own egress configuration wins", args: []kubeadmv1.Arg{{Name: egressSelectorFlag, Value: "/etc/mine.yaml"}}, wantArg: "/etc/mine.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := &kubeadmv1.ClusterConfiguration{}
			cc.APIServer.ExtraArgs = tc.args
			for i := 0; i < 2; i++ { // idempotent
				applied, reason := ApplyTunnelEgress(cc)
				if applied != tc.wantApplied || (!applied && !strings.Contains(reason, "/etc/mine.yaml")) {
					t.Fatalf("applied %v (%s), want %v", applied, reason, tc.wantApplied)
				}
			}
			var got []string
			for _, a := range cc.APIServer.ExtraArgs {
				if a.Name == egressSelectorFlag {
					got = append(got, a.Value)
				}
			}
			if len(got) != 1 || got[0] != tc.wantArg {
				t.Fatalf("--%s: %v, want [%s]", egressSelectorFlag, got, tc.wantArg)
			}
			wantVolumes := 0
			if tc.wantApplied {
				wantVolumes = 2
			}
			if len(cc.APIServer.ExtraVolumes) != wantVolumes {
				t.Fatalf("volumes %+v, want %d", cc.APIServer.ExtraVolumes, wantVolumes)
			}
		})
	}
}

func TestTunnelServersOf(t *testing.T) {
	h := &Host{Root: t.TempDir(), Log: &bytes.Buffer{}}
	writeHostFile(t, h, contract.EdgeProxyConfigFile, "nodeName: e1\nservers: [\"https://10.0.0.1:6443\", \"https://10.0.0.2:6443\", \"https://10.0.0.1:6443\", \"https://[fd00::1]:6443\"]\n")
	got, err := tunnelServersOf(h)
	if err != nil {
		t.Fatal(err)
	}
	want := "10.0.0.1:10262 10.0.0.2:10262 [fd00::1]:10262"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}

// The server's certificate and kubeconfig come from the cluster CA, cover
// the host's names, and a second run keeps them.
func TestTunnelServerPKI(t *testing.T) {
	h := &Host{Root: t.TempDir(), Log: &bytes.Buffer{}}
	ca, caKey, err := pkiutil.NewCertificateAuthority(&pkiutil.CertConfig{Config: certutil.Config{CommonName: "kubernetes"},
		NotAfter: time.Now().Add(365 * 24 * time.Hour), EncryptionAlgorithm: kubeadmapi.EncryptionAlgorithmECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(h.Path(clusterPKIDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := pkiutil.WriteCertAndKey(h.Path(clusterPKIDir), "ca", ca, caKey); err != nil {
		t.Fatal(err)
	}
	writeHostFile(t, h, "/etc/hostname", "master-1\n")
	writeHostFile(t, h, controllerManagerKubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: kubernetes, cluster: {server: "https://10.0.0.1:6443"}}]
`)
	changed, err := tunnelServerPKI(h, "master-1")
	if err != nil || !changed {
		t.Fatalf("first run: changed %v, err %v", changed, err)
	}
	cert, _, err := pkiutil.TryLoadCertAndKeyFromDisk(h.Path(filepath.Dir(contract.EdgeTunnelServingCert)), "server")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "master-1", Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("serving certificate: %v", err)
	}
	kc, err := clientcmd.LoadFromFile(h.Path(contract.EdgeTunnelKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kc.Clusters {
		if c.Server != "https://10.0.0.1:6443" {
			t.Errorf("kubeconfig server %s, want the local API endpoint", c.Server)
		}
	}
	for _, a := range kc.AuthInfos {
		certs, err := certutil.ParseCertsPEM(a.ClientCertificateData)
		if err != nil || certs[0].Subject.CommonName != contract.EdgeTunnelServerUser || len(certs[0].Subject.Organization) != 0 {
			t.Errorf("client certificate: %v %+v (want CN %s, no group)", err, certs[0].Subject, contract.EdgeTunnelServerUser)
		}
	}
	if fi, err := os.Stat(h.Path(contract.EdgeTunnelKubeconfig)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode: %v %v", fi.Mode(), err)
	}
	if changed, err := tunnelServerPKI(h, "master-1"); err != nil || changed {
		t.Fatalf("second run: changed %v, err %v (want the first run's files kept)", changed, err)
	}
}

func writeHostFile(t *testing.T, h *Host, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(h.Path(path)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path(path), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
