package edgeipam

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// fakeHostLocal behaves as host-local does for what edgeipam relies on: a
// store of one file per address holding "containerID\r\nifname", requested
// addresses (args.cni.ips) granted only when free, else the lowest free one.
type fakeHostLocal struct {
	dir   string // <dataDir>/<network name>
	calls []string
}

func (f *fakeHostLocal) Add(_ context.Context, plugin string, netconf []byte) (types.Result, error) {
	var c struct {
		Args struct {
			CNI struct {
				IPs []string `json:"ips"`
			} `json:"cni"`
		} `json:"args"`
	}
	if err := json.Unmarshal(netconf, &c); err != nil {
		return nil, err
	}
	id := os.Getenv("TEST_CONTAINER_ID")
	f.calls = append(f.calls, fmt.Sprintf("%s ADD %v", plugin, c.Args.CNI.IPs))
	var ip string
	if len(c.Args.CNI.IPs) > 0 {
		ip = c.Args.CNI.IPs[0]
		if _, err := os.Stat(filepath.Join(f.dir, ip)); err == nil {
			return nil, fmt.Errorf("requested IP address %s is not available in range set 10.244.1.1-10.244.1.254", ip)
		}
	} else {
		for n := 1; ; n++ {
			ip = fmt.Sprintf("10.244.1.%d", n)
			if _, err := os.Stat(filepath.Join(f.dir, ip)); os.IsNotExist(err) {
				break
			}
		}
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(f.dir, ip), []byte(id+"\r\neth0"), 0o644); err != nil {
		return nil, err
	}
	_, ipn, _ := net.ParseCIDR(ip + "/24")
	ipn.IP = net.ParseIP(ip)
	return &types100.Result{CNIVersion: "1.0.0", IPs: []*types100.IPConfig{{Address: *ipn}}}, nil
}

func (f *fakeHostLocal) Del(_ context.Context, plugin string, _ []byte) error {
	id := os.Getenv("TEST_CONTAINER_ID")
	f.calls = append(f.calls, plugin+" DEL")
	ents, _ := os.ReadDir(f.dir)
	for _, e := range ents {
		if b, _ := os.ReadFile(filepath.Join(f.dir, e.Name())); strings.HasPrefix(string(b), id+"\r\n") {
			os.Remove(filepath.Join(f.dir, e.Name()))
		}
	}
	return nil
}

func (f *fakeHostLocal) Check(context.Context, string, []byte) error { return nil }

// op is one CNI call: ADD or DEL of a container of a pod.
type op struct {
	cmd       string // ADD or DEL
	pod       string // namespace/name; "" for no Kubernetes args
	container string
	wantIP    string // ADD: the address the pod must get
}

func TestPlugin(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []op
		// wantRecords: pod key -> address edgeipam remembers at the end.
		wantRecords map[string]string
	}{
		{
			name: "a pod restarted in a new sandbox after a clean DEL gets its address back",
			ops: []op{
				{cmd: "ADD", pod: "default/a", container: "c1", wantIP: "10.244.1.1"},
				{cmd: "ADD", pod: "default/b", container: "c2", wantIP: "10.244.1.2"},
				{cmd: "DEL", pod: "default/a", container: "c1"},
				{cmd: "ADD", pod: "default/a", container: "c3", wantIP: "10.244.1.1"},
			},
			wantRecords: map[string]string{"default_a_eth0": "10.244.1.1/24", "default_b_eth0": "10.244.1.2/24"},
		},
		{
			name: "after a reboot the old sandbox's DEL comes late: its reservation is released first",
			ops: []op{
				{cmd: "ADD", pod: "kube-system/app", container: "old", wantIP: "10.244.1.1"},
				{cmd: "ADD", pod: "kube-system/app", container: "new", wantIP: "10.244.1.1"},
				{cmd: "DEL", pod: "kube-system/app", container: "old"},
			},
			wantRecords: map[string]string{"kube-system_app_eth0": "10.244.1.1/24"},
		},
		{
			name: "another pod got the address while the pod was away: its record wins, the pod gets a new one",
			ops: []op{
				{cmd: "ADD", pod: "default/a", container: "c1", wantIP: "10.244.1.1"},
				{cmd: "DEL", pod: "default/a", container: "c1"},
				{cmd: "ADD", pod: "default/b", container: "c2", wantIP: "10.244.1.1"},
				{cmd: "ADD", pod: "default/a", container: "c3", wantIP: "10.244.1.2"},
			},
			wantRecords: map[string]string{"default_a_eth0": "10.244.1.2/24", "default_b_eth0": "10.244.1.1/24"},
		},
		{
			name: "the old address is held by another container: never taken from it, a new one instead",
			ops: []op{
				{cmd: "ADD", pod: "default/a", container: "c1", wantIP: "10.244.1.1"},
				{cmd: "DEL", pod: "default/a", container: "c1"},
				{cmd: "ADD", pod: "", container: "x", wantIP: "10.244.1.1"},
				{cmd: "ADD", pod: "default/a", container: "c3", wantIP: "10.244.1.2"},
			},
			wantRecords: map[string]string{"default_a_eth0": "10.244.1.2/24"},
		},
		{
			name: "no Kubernetes pod arguments: plain host-local, nothing recorded",
			ops: []op{
				{cmd: "ADD", pod: "", container: "c1", wantIP: "10.244.1.1"},
			},
			wantRecords: map[string]string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"edgeops","type":"bridge","ipam":{"type":"edge-ipam","dataDir":%q,"stateDir":%q,"ranges":[[{"subnet":"10.244.1.0/24"}]]}}`,
				filepath.Join(dir, "networks"), filepath.Join(dir, "state"))
			hl := &fakeHostLocal{dir: filepath.Join(dir, "networks", "edgeops")}
			var got types.Result
			p := Plugin{Delegate: hl, Out: func(r types.Result, _ string) error { got = r; return nil }}
			for i, o := range tc.ops {
				t.Setenv("TEST_CONTAINER_ID", o.container)
				args := &skel.CmdArgs{ContainerID: o.container, IfName: "eth0", StdinData: []byte(conf), Args: "IgnoreUnknown=1"}
				if ns, name, ok := strings.Cut(o.pod, "/"); ok {
					args.Args += ";K8S_POD_NAMESPACE=" + ns + ";K8S_POD_NAME=" + name + ";K8S_POD_INFRA_CONTAINER_ID=" + o.container
				}
				switch o.cmd {
				case "ADD":
					got = nil
					if err := p.Add(args); err != nil {
						t.Fatalf("op %d %+v: %v", i, o, err)
					}
					ips, err := resultIPs(got)
					if err != nil || len(ips) != 1 || ips[0] != o.wantIP+"/24" {
						t.Fatalf("op %d %+v: got %v %v, want %s (host-local calls %v)", i, o, ips, err, o.wantIP, hl.calls)
					}
				case "DEL":
					if err := p.Del(args); err != nil {
						t.Fatalf("op %d %+v: %v", i, o, err)
					}
				}
			}
			records := map[string]string{}
			st := store{dir: filepath.Join(dir, "state", "edgeops")}
			ents, _ := os.ReadDir(st.dir)
			for _, e := range ents {
				if r, ok := st.get(e.Name()); ok {
					records[e.Name()] = strings.Join(r.IPs, ",")
				}
			}
			if fmt.Sprint(records) != fmt.Sprint(tc.wantRecords) {
				t.Errorf("records %v, want %v", records, tc.wantRecords)
			}
		})
	}
}

func TestParseConf(t *testing.T) {
	for _, tc := range []struct {
		conf, wantErr string
	}{
		{`{"name":"n","ipam":{"type":"edge-ipam"}}`, ""},
		{`{"ipam":{"type":"edge-ipam"}}`, "has no name"},
		{`{"name":"n","ipam":{"type":"edge-ipam","delegate":"edge-ipam"}}`, "would call itself"},
		{`{`, "parse network configuration"},
	} {
		c, err := parseConf([]byte(tc.conf))
		if tc.wantErr == "" {
			if err != nil || c.IPAM.Delegate != DefaultDelegate || c.IPAM.StateDir != DefaultStateDir || c.IPAM.DataDir != hostLocalDefaultStore {
				t.Errorf("%s: %+v %v", tc.conf, c, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.conf, err, tc.wantErr)
		}
	}
}

func TestPodKey(t *testing.T) {
	for args, want := range map[string]string{
		"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=x": "ns_web-0_eth0",
		"K8S_POD_NAME=web-0":                    "",
		"K8S_POD_NAMESPACE=../x;K8S_POD_NAME=y": "",
		"K8S_POD_NAMESPACE=a_b;K8S_POD_NAME=y":  "",
		"":                                      "",
	} {
		if got := podKey(args, "eth0"); got != want {
			t.Errorf("podKey(%q) = %q, want %q", args, got, want)
		}
	}
}
