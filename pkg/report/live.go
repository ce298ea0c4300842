package report

import "fmt"

// liveView is the state behind the progress block: the current phase and
// each host's state in it, plus bytes staged.
type liveView struct {
	phase string
	hosts map[string]*liveHost
	order []string
	drawn int // lines on screen now
}

type liveHost struct {
	phase, state string
	done, total  int64
}

func newLiveView() liveView { return liveView{hosts: map[string]*liveHost{}} }

func (v *liveView) host(h string) *liveHost {
	lh, ok := v.hosts[h]
	if !ok {
		lh = &liveHost{state: "waiting"}
		v.hosts[h] = lh
		v.order = append(v.order, h)
	}
	return lh
}

func (v *liveView) update(e Event) {
	if e.Phase != "" {
		v.phase = e.Phase
	}
	if e.Host == "" {
		return
	}
	lh := v.host(e.Host)
	if e.Phase != "" {
		lh.phase = e.Phase
	}
	switch e.Event {
	case EventStart:
		lh.state = "running"
	case EventDone, EventChanged, EventSkipped, EventFailed:
		lh.state = e.Event
	}
}

func (v *liveView) progress(h string, done, total int64) {
	lh := v.host(h)
	lh.done, lh.total = done, total
}

func (v *liveView) render() []string {
	if len(v.order) == 0 {
		return nil
	}
	lines := []string{fmt.Sprintf("── %s ──", v.phase)}
	for _, h := range v.order {
		lh := v.hosts[h]
		l := "  " + pad(h, 18) + " " + pad(lh.phase, 12) + " " + pad(lh.state, 8)
		if lh.total > 0 {
			l += fmt.Sprintf(" %s/%s", bytesHuman(lh.done), bytesHuman(lh.total))
		}
		lines = append(lines, l)
	}
	return lines
}

func bytesHuman(n int64) string {
	const mib = 1 << 20
	if n >= mib {
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d KiB", n/1024)
}
