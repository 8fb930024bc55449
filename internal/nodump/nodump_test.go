//go:build linux

package nodump

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHelperDumpable is not a test: TestSetMakesTheProcessNotDumpable runs
// it in a child process, so that this test binary stays dumpable.
func TestHelperDumpable(t *testing.T) {
	if os.Getenv("KUBEMINT_TEST_NODUMP") == "" {
		t.Skip("helper process only")
	}
	if err := Set(); err != nil {
		t.Fatal(err)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("dumpable=%d\n", d)
}

func TestSetMakesTheProcessNotDumpable(t *testing.T) {
	child := exec.Command(os.Args[0], "-test.run=^TestHelperDumpable$")
	child.Env = append(os.Environ(), "KUBEMINT_TEST_NODUMP=1")
	out, err := child.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "dumpable=0\n") {
		t.Errorf("the process is still dumpable:\n%s", out)
	}
}
