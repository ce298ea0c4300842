package vip

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// The gratuitous ARP schedule: at once, then after these delays, then
// every arpPeriod while holding.
var arpBurst = []time.Duration{0, 500 * time.Millisecond, time.Second}

const arpPeriod = 10 * time.Second

// holder owns the address: it adds and removes it as the election and the
// Lease writes (lock.go) report. One mutex orders every change; nothing
// done under it calls the API server, so a removal never waits on one.
type holder struct {
	self  string
	ip    netip.Addr
	iface string
	lease time.Duration
	renew time.Duration
	tick  time.Duration
	addrs AddrManager
	arp   Announcer
	lg    *log.Logger
	errs  *errLog
	start time.Time

	mu          sync.Mutex
	leading     bool
	term        uint64 // bumped when leading starts or ends
	holding     bool   // we added the address or found it (and did not remove it)
	bootstrap   bool   // found at start; kept until the leader is known
	transitions int
	holderID    string    // the Lease's holder as last read or written
	since       time.Time // last change of holderID, leading or holding
	lastRenew   time.Time // start of our last successful write of the Lease as holder
	lastAPIOK   time.Time
	lastAPIErr  error
}

func (h *holder) addr() string { return h.ip.String() + "/32" }

// changed stamps since; h.mu is held.
func (h *holder) changed() { h.since = time.Now() }

// initial looks at the interface: an address already there is kept for now.
func (h *holder) initial() error {
	present, err := h.addrs.Present()
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start = time.Now()
	if present {
		h.holding, h.bootstrap = true, true
		h.changed()
		h.lg.Printf("%s already on %s at start: keeping it until the leader is known", h.addr(), h.iface)
	}
	return nil
}

// addLocked adds the address; h.mu is held.
func (h *holder) addLocked() error {
	if err := h.addrs.Add(); err != nil {
		h.errs.Print(err.Error())
		return err
	}
	if !h.holding {
		h.holding = true
		h.changed()
	}
	return nil
}

// removeLocked removes the address; h.mu is held. On failure holding stays
// true, so the next tick tries again.
func (h *holder) removeLocked() error {
	if err := h.addrs.Remove(); err != nil {
		h.errs.Print(err.Error())
		return err
	}
	if h.holding {
		h.holding = false
		h.changed()
	}
	return nil
}

// announceLocked sends one gratuitous ARP; h.mu is held, so it never goes
// out after the address was removed.
func (h *holder) announceLocked() {
	if err := h.arp.Announce(); err != nil {
		h.errs.Print(err.Error())
	}
}

// startedLeading is OnStartedLeading: add, announce, then hold for the
// term. ctx ends with the term.
func (h *holder) startedLeading(ctx context.Context) {
	h.mu.Lock()
	if ctx.Err() != nil { // the term ended before this goroutine ran
		h.mu.Unlock()
		return
	}
	h.leading = true
	h.term++
	term := h.term
	h.transitions++
	kept := h.holding
	h.bootstrap = false
	h.holderID = h.self
	h.changed()
	err := h.addLocked()
	if err == nil {
		h.announceLocked()
	}
	n := h.transitions
	h.mu.Unlock()
	switch {
	case err != nil:
		h.lg.Printf("became leader (#%d) but could not add %s to %s: %v; retrying", n, h.addr(), h.iface, err)
	case kept:
		h.lg.Printf("became leader (#%d): kept %s on %s, gratuitous ARP sent", n, h.addr(), h.iface)
	default:
		h.lg.Printf("became leader (#%d): added %s to %s, gratuitous ARP sent", n, h.addr(), h.iface)
	}
	go h.hold(ctx, term)
}

// hold runs while leading: it drops the address as soon as the last
// successful renewal is older than RenewDeadline (others may take over
// after LeaseDuration), adds it back if renewals resume, and announces it.
func (h *holder) hold(ctx context.Context, term uint64) {
	tk := time.NewTicker(h.tick)
	defer tk.Stop()
	burstStart, sent := time.Now(), 1 // the first announcement went out in startedLeading
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		h.mu.Lock()
		if h.term != term || !h.leading {
			h.mu.Unlock()
			return
		}
		now := time.Now()
		fresh := now.Sub(h.lastRenew) < h.renew
		switch {
		case !fresh && h.holding:
			if h.removeLocked() == nil {
				h.lg.Printf("lease not renewed for %v (last API error: %v): removed %s from %s while still trying to renew",
					now.Sub(h.lastRenew).Round(time.Millisecond), h.lastAPIErr, h.addr(), h.iface)
			}
		case fresh && !h.holding:
			if h.addLocked() == nil {
				h.announceLocked()
				burstStart, sent = now, 1
				h.lg.Printf("lease renewed again: added %s to %s, gratuitous ARP sent", h.addr(), h.iface)
			}
		case fresh && h.holding && !now.Before(nextARP(burstStart, sent)):
			if sent >= len(arpBurst) {
				h.checkPresentLocked()
			}
			h.announceLocked()
			sent++
		}
		h.mu.Unlock()
	}
}

// nextARP is when announcement number sent+1 is due.
func nextARP(burstStart time.Time, sent int) time.Time {
	if sent < len(arpBurst) {
		return burstStart.Add(arpBurst[sent])
	}
	return burstStart.Add(arpBurst[len(arpBurst)-1] + time.Duration(sent-len(arpBurst)+1)*arpPeriod)
}

// checkPresentLocked puts the address back if something removed it behind
// our back (a network restart, a manual "ip addr del"); h.mu is held.
func (h *holder) checkPresentLocked() {
	present, err := h.addrs.Present()
	if err != nil {
		h.errs.Print(err.Error())
		return
	}
	if !present {
		if err := h.addrs.Add(); err == nil {
			h.lg.Printf("%s had disappeared from %s while leading: added it back", h.addr(), h.iface)
		} else {
			h.errs.Print(err.Error())
		}
	}
}

// stepDown ends the term and removes the address; why says why.
func (h *holder) stepDown(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.leading {
		return
	}
	h.leading = false
	h.term++
	if h.lastAPIErr != nil && !strings.HasPrefix(why, "stopping") {
		why += "; last API error: " + h.lastAPIErr.Error()
	}
	if h.holderID == h.self {
		h.holderID = ""
	}
	h.changed()
	if !h.holding {
		h.lg.Printf("lost leadership (%s); %s was already removed", why, h.addr())
		return
	}
	if err := h.removeLocked(); err != nil {
		h.lg.Printf("lost leadership (%s) but could not remove %s: %v; retrying", why, h.addr(), err)
		return
	}
	h.lg.Printf("lost leadership (%s): removed %s from %s", why, h.addr(), h.iface)
}

// newLeader is OnNewLeader. The callback runs in its own goroutine, so a
// late one is recognised by comparing with the holder last read.
func (h *holder) newLeader(id string) {
	if id == "" || id == h.self {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holderID != id {
		return // stale
	}
	h.lg.Printf("observed new leader %s", id)
	if h.leading || !h.holding {
		return
	}
	if h.removeLocked() == nil {
		h.bootstrap = false
		h.lg.Printf("removed stale %s from %s: %s holds the lease", h.addr(), h.iface, id)
	}
}

// sweep runs every tick outside terms: it gives up an address found at
// start when the API server stays unreachable for 3 lease durations, and
// retries a failed removal.
func (h *holder) sweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.leading || !h.holding {
		return
	}
	if !h.bootstrap {
		if h.removeLocked() == nil {
			h.lg.Printf("removed %s from %s (earlier removal had failed)", h.addr(), h.iface)
		}
		return
	}
	ok := h.lastAPIOK
	if ok.Before(h.start) {
		ok = h.start
	}
	if down := time.Since(ok); down > 3*h.lease && h.lastAPIErr != nil {
		if h.removeLocked() == nil {
			h.bootstrap = false
			h.lg.Printf("removed stale %s from %s at start: never became leader and the API server has failed for %v (last error: %v)",
				h.addr(), h.iface, down.Round(time.Second), h.lastAPIErr)
		}
	}
}

// observe records the Lease's holder as read or written.
func (h *holder) observe(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holderID != id {
		h.holderID = id
		h.changed()
	}
}

// renewed records a successful write of the Lease with us as holder,
// started at start.
func (h *holder) renewed(start time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if start.After(h.lastRenew) {
		h.lastRenew = start
	}
}

// apiResult records the outcome of a call; err is nil when the API server
// answered (not found and conflicts count as answers).
func (h *holder) apiResult(op string, err error) {
	h.mu.Lock()
	if err == nil {
		h.lastAPIOK, h.lastAPIErr = time.Now(), nil
		h.mu.Unlock()
		return
	}
	h.lastAPIErr = err
	h.mu.Unlock()
	h.errs.Print(fmt.Sprintf("API server: %s lease: %v", op, err))
}

// Status is edge-vip's /status.
type Status struct {
	Node        string `json:"node"`
	Address     string `json:"address"`
	Interface   string `json:"interface"`
	Leader      bool   `json:"leader"`
	Holder      string `json:"holder"`      // the Lease's holder, empty if none known
	Holding     bool   `json:"holding"`     // the address is on Interface now
	Since       string `json:"since"`       // RFC 3339: last change of leader, holder or holding
	Transitions int    `json:"transitions"` // times this instance became leader
}

func (h *holder) status() Status {
	h.mu.Lock()
	st := Status{
		Node:        h.self,
		Address:     h.ip.String(),
		Interface:   h.iface,
		Leader:      h.leading,
		Holder:      h.holderID,
		Holding:     h.holding,
		Transitions: h.transitions,
	}
	if !h.since.IsZero() {
		st.Since = h.since.UTC().Format(time.RFC3339)
	}
	h.mu.Unlock()
	if present, err := h.addrs.Present(); err == nil {
		st.Holding = present
	}
	return st
}
