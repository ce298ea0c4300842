package report

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one host's line in the final summary.
type Row struct {
	Host     string
	Name     string
	Role     string
	Status   string // e.g. joined, unchanged, failed, reset, NOT reset
	Detail   string
	Duration time.Duration
	// Steps are the host's step times inside its phases (edgeadm's phases,
	// kubeadm), in the order they ended.
	Steps []StepTime
}

// Summary prints the final per-host table (text) or one summary event per
// host (JSON). Both are redacted and logged.
func (r *Reporter) Summary(title string, rows []Row) {
	for _, row := range rows {
		msg := fmt.Sprintf("role=%s status=%s", row.Role, row.Status)
		if row.Detail != "" {
			msg += " " + row.Detail
		}
		e := Event{Time: r.o.Now(), Host: row.Host, Phase: title, Event: EventSummary, Message: msg, Steps: row.Steps}
		if r.o.JSON {
			r.Emit(e)
			continue
		}
		r.mu.Lock()
		if r.o.Log != nil {
			fmt.Fprintf(r.o.Log, "%s %s\n", e.Time.UTC().Format(time.RFC3339Nano), r.red.Redact(e.Text()))
		}
		r.mu.Unlock()
	}
	if r.o.JSON {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLiveLocked() // the table is the last word; no view below it
	fmt.Fprintf(r.o.Out, "\n%s\n", title)
	tw := tabwriter.NewWriter(r.o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tNAME\tROLE\tSTATUS\tTIME\tDETAIL")
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Host, row.Name, row.Role, row.Status,
			row.Duration.Round(100*time.Millisecond), r.red.Redact(row.Detail))
	}
	tw.Flush()
	r.stepTimesLocked(rows)
}

// stepTimesLocked prints, under the table, each host's step times per phase,
// one line per host and phase, wrapped to the terminal.
func (r *Reporter) stepTimesLocked(rows []Row) {
	header := false
	for _, row := range rows {
		var phase string
		var parts []string
		flush := func() {
			if len(parts) == 0 {
				return
			}
			if !header {
				fmt.Fprintln(r.o.Out, "\nSTEP TIMES")
				header = true
			}
			for _, l := range wrap(fmt.Sprintf("%s  %s: %s", row.Host, phase, strings.Join(parts, ", ")), r.width()) {
				fmt.Fprintln(r.o.Out, l)
			}
			parts = nil
		}
		for _, st := range row.Steps {
			if st.Phase != phase {
				flush()
				phase = st.Phase
			}
			p := fmt.Sprintf("%s %s", st.Step, seconds(time.Duration(st.DurationMS)*time.Millisecond))
			if st.Failed {
				p += " (failed)"
			}
			parts = append(parts, p)
		}
		flush()
	}
}
