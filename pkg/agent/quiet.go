package agent

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
)

// quietPrinter swallows kubeadm's progress lines when edgeadm reads the
// cluster's kubeadm-config (they name kubeadm commands that do not apply).
type quietPrinter struct{}

func (quietPrinter) PrintObj(runtime.Object, io.Writer) error { return nil }
func (quietPrinter) Fprintf(w io.Writer, format string, args ...any) (int, error) {
	return fmt.Fprintf(io.Discard, format, args...)
}
func (quietPrinter) Fprintln(w io.Writer, args ...any) (int, error) {
	return fmt.Fprintln(io.Discard, args...)
}
func (quietPrinter) Printf(format string, args ...any) (int, error) {
	return fmt.Fprintf(io.Discard, format, args...)
}
func (quietPrinter) Println(args ...any) (int, error) { return fmt.Fprintln(io.Discard, args...) }
