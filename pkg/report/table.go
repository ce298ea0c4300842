package report

import (
	"fmt"
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
}

// Summary prints the final per-host table (text) or one summary event per
// host (JSON). Both are redacted and logged.
func (r *Reporter) Summary(title string, rows []Row) {
	for _, row := range rows {
		msg := fmt.Sprintf("role=%s status=%s", row.Role, row.Status)
		if row.Detail != "" {
			msg += " " + row.Detail
		}
		e := Event{Time: r.o.Now(), Host: row.Host, Phase: title, Event: EventSummary, Message: msg}
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
	r.clearLocked()
	r.live.drawn = 0
	r.o.Live = false // the table is the last word; no view below it
	fmt.Fprintf(r.o.Out, "\n%s\n", title)
	tw := tabwriter.NewWriter(r.o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tNAME\tROLE\tSTATUS\tTIME\tDETAIL")
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Host, row.Name, row.Role, row.Status,
			row.Duration.Round(100*time.Millisecond), r.red.Redact(row.Detail))
	}
	tw.Flush()
}
