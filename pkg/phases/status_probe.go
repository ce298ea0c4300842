package phases

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// Units status looks at, by short name (unit = name + ".service").
const (
	unitKubelet      = "kubelet"
	unitContainerd   = "containerd"
	unitEdgeProxy    = "edge-proxy"
	unitTunnelAgent  = "edge-tunnel-agent"
	unitTunnelServer = "edge-tunnel-server"
	unitVIP          = "edge-vip"
)

// healthAddress is the local /status address of an edge component ("" for
// kubelet and containerd, which status judges by their unit and the Node).
func healthAddress(unit string) string {
	switch unit {
	case unitEdgeProxy:
		return contract.EdgeProxyHealthAddress
	case unitTunnelAgent:
		return contract.EdgeTunnelAgentHealthAddress
	case unitTunnelServer:
		return contract.EdgeTunnelServerHealthAddress
	case unitVIP:
		return contract.VIPHealthAddress
	}
	return ""
}

// probedUnits in the order the script lists them.
func probedUnits() []string {
	return []string{unitKubelet, unitContainerd, unitEdgeProxy, unitTunnelAgent, unitTunnelServer, unitVIP}
}

// unitState is a systemd unit as `systemctl show` tells it.
type unitState struct {
	Load   string // loaded, not-found
	Active string // active, inactive, failed, activating
	Sub    string // running, dead, auto-restart
}

// httpAnswer is what a local health endpoint said.
type httpAnswer struct {
	Code int    // 0: no answer
	Body []byte // the body of a 200
	Err  string // why there is no usable answer
}

// probe is what statusScript read on one host.
type probe struct {
	Units             map[string]unitState
	KubeletVersion    string // "v1.37.2" from kubelet --version
	ContainerdVersion string // "v2.1.4" from containerd --version
	LockOwner         string // another run's lock line ("" : no lock)
	LockAge           time.Duration
	LockSince         time.Time // the lock file's birth, when the file system keeps it
	AgentBusy         bool      // edgeadm is running on the host
	NoBash            bool      // the health endpoints could not be asked
	HTTP              map[string]httpAnswer
}

// statusScript reads, changing nothing, what status needs beyond the
// facts: units, versions, the lock, and the local /status of the given
// components (plain HTTP/1.0 over bash's /dev/tcp: no curl needed; the raw
// answer comes back base64-encoded and is parsed here). It starts few
// processes: a loaded host runs it slowly enough as it is.
func statusScript(endpoints []string) string {
	var b strings.Builder
	b.WriteString(`set -u
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
systemctl show -p Id -p LoadState -p ActiveState -p SubState`)
	for _, u := range probedUnits() {
		b.WriteString(" " + u + ".service")
	}
	fmt.Fprintf(&b, ` 2>/dev/null | sed 's/^/unit:/'
command -v kubelet >/dev/null 2>&1 && echo "kubeletversion=$(kubelet --version 2>/dev/null)"
command -v containerd >/dev/null 2>&1 && echo "containerdversion=$(containerd --version 2>/dev/null)"
f=%s
if [ -f "$f" ]; then
  echo "lockowner=$(head -n 1 "$f")"
  echo "lockage=$(( $(date +%%s) - $(stat -c %%Y "$f") ))"
  echo "lockborn=$(stat -c %%W "$f" 2>/dev/null || echo 0)"
fi
pgrep -x %s >/dev/null 2>&1 && echo agentbusy=1
`, quote(LockPath), agentProcess)
	if len(endpoints) == 0 {
		b.WriteString("exit 0\n")
		return b.String()
	}
	b.WriteString("if command -v bash >/dev/null 2>&1; then\n")
	for _, u := range endpoints {
		addr := healthAddress(u)
		host, port, _ := strings.Cut(addr, ":")
		get := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET /status HTTP/1.0\r\nHost: %s\r\n\r\n' >&3 && cat <&3`, host, port, addr)
		fmt.Fprintf(&b, "  echo \"http.%s=$(timeout 3 bash -c %s 2>/dev/null | base64 -w0)\"\n", u, quote(get))
	}
	b.WriteString("else echo nobash=1; fi\nexit 0\n")
	return b.String()
}

// parseProbe reads statusScript's output.
func parseProbe(out string) (probe, error) {
	p := probe{Units: map[string]unitState{}, HTTP: map[string]httpAnswer{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var units unitBlocks
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "unit:"); ok {
			units.line(rest)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "http."):
			p.HTTP[strings.TrimPrefix(k, "http.")] = parseHTTPAnswer(v)
		case k == "kubeletversion":
			p.KubeletVersion = versionWord(v, "v")
		case k == "containerdversion":
			p.ContainerdVersion = versionWord(v, "v")
		case k == "lockowner":
			p.LockOwner = v
		case k == "lockage":
			secs, err := strconv.Atoi(v)
			if err != nil {
				return p, fmt.Errorf("status: lock age %q: %w", v, err)
			}
			p.LockAge = time.Duration(secs) * time.Second
		case k == "lockborn":
			if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
				p.LockSince = time.Unix(secs, 0)
			}
		case k == "agentbusy":
			p.AgentBusy = true
		case k == "nobash":
			p.NoBash = true
		}
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("status: read the output: %w", err)
	}
	units.flush()
	if len(units.done) == 0 {
		return p, fmt.Errorf("status: systemctl told nothing about the units (is systemd running on the host?)")
	}
	p.Units = units.done
	return p, nil
}

// unitBlocks reads `systemctl show` for several units: one block of
// Key=value lines per unit, blocks separated by an empty line.
type unitBlocks struct {
	id   string
	cur  unitState
	done map[string]unitState // by short name (kubelet, edge-proxy)
}

func (u *unitBlocks) line(l string) {
	k, v, ok := strings.Cut(l, "=")
	if !ok {
		u.flush()
		return
	}
	switch k {
	case "Id":
		u.id = strings.TrimSuffix(v, ".service")
	case "LoadState":
		u.cur.Load = v
	case "ActiveState":
		u.cur.Active = v
	case "SubState":
		u.cur.Sub = v
	}
}

func (u *unitBlocks) flush() {
	if u.id != "" {
		if u.done == nil {
			u.done = map[string]unitState{}
		}
		u.done[u.id] = u.cur
	}
	u.id, u.cur = "", unitState{}
}

// versionWord picks the first word starting with prefix ("Kubernetes
// v1.37.2" -> v1.37.2; "containerd github.com/containerd/containerd/v2
// v2.1.4 abc" -> v2.1.4), else the whole text.
func versionWord(s, prefix string) string {
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, prefix) && len(w) > len(prefix) && w[len(prefix)] >= '0' && w[len(prefix)] <= '9' {
			return w
		}
	}
	return strings.TrimSpace(s)
}

// parseHTTPAnswer reads one base64-encoded raw HTTP response.
func parseHTTPAnswer(b64 string) httpAnswer {
	if b64 == "" {
		return httpAnswer{Err: "no answer (nothing listens, or it did not answer within 3s)"}
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return httpAnswer{Err: fmt.Sprintf("unreadable answer: %v", err)}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return httpAnswer{Err: fmt.Sprintf("not an HTTP answer: %v", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpAnswer{Code: resp.StatusCode, Err: fmt.Sprintf("truncated answer: %v", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return httpAnswer{Code: resp.StatusCode, Err: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bodyLine(body))}
	}
	return httpAnswer{Code: resp.StatusCode, Body: body}
}

func bodyLine(body []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return s
}

// probeHost runs statusScript on h. Only the endpoints the facts found
// listening are asked; the others are known not to answer.
func probeHost(ctx context.Context, h *Host) (probe, error) {
	var ask, silent []string
	for _, u := range probedUnits() {
		addr := healthAddress(u)
		if addr == "" {
			continue
		}
		_, port, _ := strings.Cut(addr, ":")
		if n, err := strconv.Atoi(port); err == nil && h.Facts.ListeningPorts[n] {
			ask = append(ask, u)
		} else {
			silent = append(silent, u)
		}
	}
	out, err := h.Remote.Run(ctx, statusScript(ask), nil)
	if err != nil {
		return probe{}, err
	}
	p, err := parseProbe(string(out))
	for _, u := range silent {
		p.HTTP[u] = httpAnswer{Err: "nothing listens on " + healthAddress(u)}
	}
	return p, err
}
