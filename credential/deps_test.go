package credential_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanFrontDeps fails if the binary that answers every kubectl call
// links a package whose init would slow each call down: client-go,
// apimachinery, or anything else from k8s.io.
func TestLeanFrontDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kubemint/kubemint/cmd/kubemint").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"k8s.io/", "sigs.k8s.io/", "google.golang.org/protobuf", "text/template", "net/http"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("cmd/kubemint links %s; the cache-hit path must stay lean (move the code to cmd/kubemint-full)", pkg)
			}
		}
	}
}
