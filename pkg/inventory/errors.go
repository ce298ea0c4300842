package inventory

import (
	"fmt"
	"strings"
)

// FieldError is one problem in an inventory file.
type FieldError struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Field    string `json:"field,omitempty"` // path such as hosts[3].address; empty for the whole document
	Value    string `json:"value,omitempty"` // the bad value as written; empty when missing
	Problem  string `json:"problem"`         // what is wrong: "invalid", "missing", "unknown field", ...
	Expected string `json:"expected"`        // what would be right
}

// Error reads like `hosts.yaml:12: hosts[3].address: "10.0.0.300": invalid; expected an IP address or DNS name`.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Value != "" {
		fmt.Fprintf(&b, "%q: ", e.Value)
	}
	b.WriteString(e.Problem)
	if e.Expected != "" {
		b.WriteString("; expected ")
		b.WriteString(e.Expected)
	}
	return b.String()
}

// ValidationError lists every problem found in one inventory, in file order.
type ValidationError struct {
	File   string
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Errors)+1)
	lines = append(lines, fmt.Sprintf("inventory %s: %d error(s):", e.File, len(e.Errors)))
	for _, fe := range e.Errors {
		lines = append(lines, "  "+fe.Error())
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each FieldError to errors.As and errors.Is.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}
