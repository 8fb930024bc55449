// Package hint lets an error carry the fixes for it, printed as their own
// lines after the error, as age prints them:
//
//	kubemint: error: service account ci/deployer not found on https://10.0.0.1:6443
//	kubemint: hint: create it with: kubectl create serviceaccount deployer -n ci (or run kubemint setup)
//
// The error line says what failed and stands alone; each hint says one way
// to fix it. Hints survive wrapping with fmt.Errorf's %w and errors.Join.
// The package uses only the standard library: the lean front prints with
// it too.
package hint

import (
	"fmt"
	"io"
)

// Error is an error with the hints that say how to fix it. Its Error
// method returns the wrapped error's text alone, without the hints.
type Error struct {
	Err   error
	Hints []string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err carrying hints, or err itself when there are none or err
// is nil.
func Wrap(err error, hints ...string) error {
	if err == nil || len(hints) == 0 {
		return err
	}
	return &Error{Err: err, Hints: hints}
}

// Hints returns every hint err carries anywhere in its chain, outermost
// first, each once.
func Hints(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		for err != nil {
			if h, ok := err.(*Error); ok {
				for _, s := range h.Hints {
					if !seen[s] {
						seen[s] = true
						out = append(out, s)
					}
				}
			}
			switch u := err.(type) {
			case interface{ Unwrap() []error }:
				for _, e := range u.Unwrap() {
					walk(e)
				}
				return
			case interface{ Unwrap() error }:
				err = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

// Print writes err as kubemint reports a failed command: one line
// "<prog>: error: <err>", then one "<prog>: hint: <fix>" line per hint.
// w should be the redacting stderr (package redact).
func Print(w io.Writer, prog string, err error) {
	fmt.Fprintf(w, "%s: error: %v\n", prog, err)
	for _, h := range Hints(err) {
		fmt.Fprintf(w, "%s: hint: %s\n", prog, h)
	}
}
