package exchange

import (
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestSecurityDocQuotesThePolicy: docs/security.md quotes the policy and
// binding setup --revocable creates, as RevocationPolicy makes them for
// team-a/app with --max-duration=30m: the quote stays true.
func TestSecurityDocQuotesThePolicy(t *testing.T) {
	p, b, err := RevocationPolicy("team-a", "app", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p.APIVersion, p.Kind = "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"
	b.APIVersion, b.Kind = "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"
	var want strings.Builder
	for i, o := range []any{p, b} {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			want.WriteString("---\n")
		}
		want.WriteString(strings.ReplaceAll(string(y), "status: {}\n", ""))
	}
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+want.String()+"```\n") {
		t.Errorf("docs/security.md does not quote the policy as RevocationPolicy makes it; put this there:\n```yaml\n%s```", want.String())
	}
}
