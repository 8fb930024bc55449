package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// auditRecord is what the test reads of a line of kubemint audit -o json.
type auditRecord struct {
	Time           time.Time `json:"time"`
	ServiceAccount string    `json:"serviceAccount"`
	CredentialID   string    `json:"credentialID"`
	MintedBy       *struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"mintedBy"`
	Unknown  string `json:"unknown"`
	Verb     string `json:"verb"`
	Resource string `json:"resource"`
	Name     string `json:"name"`
	Code     int    `json:"code"`
}

// auditJSON runs kubemint audit -o json with args and returns its records
// and stderr.
func auditJSON(t *testing.T, u *userEnv, args ...string) ([]auditRecord, string) {
	t.Helper()
	r := u.kubemint(t, "", append([]string{"audit", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("kubemint audit %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	var out []auditRecord
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var rec auditRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("kubemint audit -o json printed %q: %v", l, err)
		}
		out = append(out, rec)
	}
	return out, r.stderr
}

// byName keeps the records of the objects the test named, the minter of
// each, in the log's order.
func byName(recs []auditRecord, want map[string]string) map[string][]string {
	got := map[string][]string{}
	for _, r := range recs {
		if _, ok := want[r.Name]; !ok {
			continue
		}
		who := "unknown (" + r.Unknown + ")"
		if r.MintedBy != nil {
			who = r.MintedBy.Username
		}
		got[r.Name] = append(got[r.Name], who)
	}
	return got
}

// cachedToken asks kubemint, as kubectl would for context, for the token
// it holds: a cache hit, the token kubectl used.
func cachedToken(t *testing.T, u *userEnv, context, execInfo string, env ...string) string {
	t.Helper()
	r := u.run(t, env, w.kubectl, "config", "view", "--minify", "--context", context, "-o", "jsonpath={.users[0].user.exec.args}")
	var args []string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &args) != nil {
		t.Fatalf("the exec args of context %s: %q %s", context, r.stdout, r.stderr)
	}
	tok := u.run(t, append(env, "KUBERNETES_EXEC_INFO="+execInfo), filepath.Join(w.binDir, "kubemint"), args...)
	if tok.code != 0 {
		t.Fatalf("kubemint %s: %s", strings.Join(args, " "), tok.stderr)
	}
	return tokenOf(t, tok.stdout)
}

// refused checks that a kubectl call the test made as the account reached
// the API server and was answered with reason (NotFound, Forbidden).
func refused(t *testing.T, r result, reason string) {
	t.Helper()
	if r.code == 0 || !strings.Contains(r.stderr, "("+reason+")") {
		t.Errorf("kubectl: exit %d, want an error (%s): %s", r.code, reason, r.stderr)
	}
}

// auditFiles are the API server's audit log files, oldest first: the
// rotated ones (audit-TIME.log.gz, named so that they sort by time), then
// audit.log.
func auditFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(filepath.Dir(w.auditLog), "audit*.log*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit log in %s (%v)", filepath.Dir(w.auditLog), err)
	}
	slices.Sort(files) // "audit-" sorts before "audit."
	return files
}

// auditBytes is every event the API server wrote, oldest first, gzip undone.
func auditBytes(t *testing.T) []byte {
	t.Helper()
	var all bytes.Buffer
	for _, f := range auditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		all.Write(b)
	}
	return all.Bytes()
}

// waitForAudit waits until the audit log names every object (the API
// server writes an event after it has answered) and no rotated file is
// still being compressed, and returns every event.
func waitForAudit(t *testing.T, names []string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	missing := names
	for {
		// A rotated file is gzip'd after the rotation: read only once
		// none is left uncompressed (the .gz is whole then).
		plain, _ := filepath.Glob(filepath.Join(filepath.Dir(w.auditLog), "audit-*.log"))
		if len(plain) == 0 {
			b := auditBytes(t)
			missing = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return bytes.Contains(b, []byte(`"name":"`+n+`"`)) })
			if len(missing) == 0 {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the audit log does not name %v, or %v are not compressed yet", missing, plain)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rotateAuditLog makes the API server rotate its audit log (1 MB,
// --audit-log-maxsize=1) and gzip the old file: the admin asks for missing
// ConfigMaps of long names until a new .gz file appears.
func rotateAuditLog(t *testing.T) {
	t.Helper()
	before, _ := filepath.Glob(filepath.Join(filepath.Dir(w.auditLog), "audit-*.log.gz"))
	cert, err := tls.LoadX509KeyPair(filepath.Join(w.cp.Dir, "admin.crt"), filepath.Join(w.cp.Dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(w.cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}}}
	defer client.CloseIdleConnections()
	filler := strings.Repeat("x", 200)
	for i := 0; i < 20000; i++ {
		resp, err := client.Get(fmt.Sprintf("%s/api/v1/namespaces/ci/configmaps/rotate-%d-%s", w.cp.Server, i, filler))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i%100 == 99 {
			if now, _ := filepath.Glob(filepath.Join(filepath.Dir(w.auditLog), "audit-*.log.gz")); len(now) > len(before) {
				return
			}
		}
	}
	t.Fatalf("the API server did not rotate its audit log after 20000 requests")
}

// TestAuditWhoDidIt: alice and bob (client certificates, minters by setup
// --minter) both kubemint use ci/deployer and a CI job mints through
// --source-token-env; each runs kubectl calls of their own. kubemint audit,
// over the API server's audit log written with docs/audit/policy.yaml,
// names the right one for every call and nobody else, across a rotation
// the API server made (alice's TokenRequest gzip'd in the old file, a call
// of hers in the new one), from the files given newest first; the same from
// a log cut at her TokenRequest, and from one with garbage lines in it.
// status shows the credential ID the log names. The log holds no token.
func TestAuditWhoDidIt(t *testing.T) {
	applyCIRBAC(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	setup := adm.mustKubemint(t, "setup", "--service-account=ci/deployer", "--source-context=admin", "--minter=user:alice", "--minter=user:bob")

	if want := "kubemint audit --service-account=ci/deployer AUDIT-LOG..."; strings.Count(setup.stdout, want) != 1 {
		t.Errorf("setup does not print %q once:\n%s", want, setup.stdout)
	}
	ciUser := "gitlab:" + gitlabMain
	suffix := randomHex(t, 3)
	calls := map[string]string{} // object name -> who minted the token that asked for it
	people := map[string]*userEnv{}
	var tokens []string
	for _, who := range []string{"alice", "bob"} {
		u := personEnv(t, who)
		people[who] = u
		r := u.sh(t, useLineFor(t, setup.stdout, "user:"+who))
		if r.code != 0 {
			t.Fatalf("%s's kubemint use: exit %d: %s%s", who, r.code, r.stdout, r.stderr)
		}
		// use says, once, how to trace what is done with the account.
		if want := "kubemint audit --service-account=ci/deployer --minted-by=" + who + " AUDIT-LOG..."; strings.Count(r.stdout, want) != 1 {
			t.Errorf("%s's kubemint use does not print %q once:\n%s", who, want, r.stdout)
		}
		// Distinct calls: a missing pod (404), a forbidden ConfigMap (403).
		pod, cm := "audit-"+who+"-pod-"+suffix, "audit-"+who+"-cm-"+suffix
		refused(t, u.kubectl(t, "--context", "ci-deployer@local", "get", "pod", pod), "NotFound")
		refused(t, u.kubectl(t, "--context", "ci-deployer@local", "get", "configmap", cm), "Forbidden")
		calls[pod], calls[cm] = who, who
		tokens = append(tokens, cachedToken(t, u, "ci-deployer@local", execInfo(t, "client.authentication.k8s.io/v1")))
	}
	runner := newUserEnv(t)
	kubeconfig := runnerKubeconfig(t, runner, false, "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN",
		"--source-server="+w.cp.Server, "--source-certificate-authority="+w.cp.CAFile)
	idToken := ci.gitlabToken(gitlabMain, "kubernetes")
	ciEnv := []string{"KUBECONFIG=" + kubeconfig, "KUBE_ID_TOKEN=" + idToken}
	for _, name := range []string{"audit-ci-pod-" + suffix, "audit-ci-pod2-" + suffix} {
		refused(t, runner.run(t, ciEnv, w.kubectl, "get", "pod", name), "NotFound")
		calls[name] = ciUser
	}
	// The runner's entry does not provide the cluster: neither does kubectl.
	noCluster := `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
	tokens = append(tokens, cachedToken(t, runner, "deploy", noCluster, ciEnv...), idToken)

	// The admin acts as the account by impersonation, with no token.
	adminUser := whoami(t, adm, "--context", "admin")
	impersonated := "audit-admin-as-" + suffix
	refused(t, adm.kubectl(t, "--context", "admin", "--as=system:serviceaccount:ci:deployer", "-n", "ci", "get", "pod", impersonated), "NotFound")
	calls[impersonated] = adminUser

	// The API server rotates and gzips its log; alice's next call is in the
	// new file, her TokenRequest in the old one.
	rotateAuditLog(t)
	late := "audit-alice-late-" + suffix
	refused(t, people["alice"].kubectl(t, "--context", "ci-deployer@local", "get", "pod", late), "NotFound")
	calls[late] = "alice"

	names := make([]string, 0, len(calls))
	for n := range calls {
		names = append(names, n)
	}
	logBytes := waitForAudit(t, names)
	want := map[string][]string{}
	for n, who := range calls {
		want[n] = []string{who}
	}
	check := func(t *testing.T, what string, recs []auditRecord) {
		t.Helper()
		if got := byName(recs, calls); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: who asked for what: got %v, want %v", what, got, want)
		}
	}

	// Every file, newest first, as a shell glob may list them the other
	// way round: kubemint audit reads them oldest first.
	files := auditFiles(t)
	newestFirst := slices.Clone(files)
	slices.Reverse(newestFirst)
	recs, stderr := auditJSON(t, adm, newestFirst...)
	check(t, "the API server's rotated, gzip'd log", recs)
	if stderr != "" {
		t.Errorf("kubemint audit of a clean log wrote to stderr: %s", stderr)
	}
	credOf := map[string]string{}
	for _, r := range recs {
		if who, ok := calls[r.Name]; ok {
			credOf[who] = r.CredentialID
			if r.ServiceAccount != "ci/deployer" || r.Verb != "get" || (r.Code != 404 && r.Code != 403) {
				t.Errorf("record %+v", r)
			}
		}
	}

	t.Run("filters", func(t *testing.T) {
		for who := range people {
			recs, _ := auditJSON(t, adm, append([]string{"--minted-by=" + who, "--service-account=ci/deployer"}, files...)...)
			for n, got := range byName(recs, calls) {
				if calls[n] != who || len(got) != 1 {
					t.Errorf("--minted-by=%s lists %s, asked for by %s (%v)", who, n, calls[n], got)
				}
			}
			if n := len(byName(recs, calls)); n != 2 && !(who == "alice" && n == 3) {
				t.Errorf("--minted-by=%s lists %v, want %s's calls", who, byName(recs, calls), who)
			}
		}
		recs, _ := auditJSON(t, adm, append([]string{"--credential-id=" + credOf[ciUser], "--since=1h"}, files...)...)
		if got := byName(recs, calls); len(got) != 2 || got["audit-ci-pod-"+suffix] == nil {
			t.Errorf("--credential-id of the CI job's token lists %v", got)
		}
		table := adm.kubemint(t, "", append([]string{"audit", "--service-account=ci/deployer"}, files...)...)
		line := regexp.MustCompile(`(?m)^\S+Z\s+alice\s+ci/deployer\s+get\s+pods\s+ci/audit-alice-pod-` + suffix + `\s+404$`)
		if table.code != 0 || !line.MatchString(table.stdout) {
			t.Errorf("kubemint audit's table lacks alice's get pod line:\n%s%s", table.stdout, table.stderr)
		}
	})

	t.Run("status names the credential ID the log names", func(t *testing.T) {
		for who, u := range people {
			r := u.kubemint(t, "", "status", "-o", "json", "--service-account=ci/deployer")
			var st struct {
				Entries []struct {
					CredentialID string    `json:"credentialID"`
					Issued       time.Time `json:"issued"`
				} `json:"entries"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st.Entries) != 1 {
				t.Fatalf("%s's status: %v\n%s%s", who, err, r.stdout, r.stderr)
			}
			if e := st.Entries[0]; e.CredentialID == "" || e.CredentialID != credOf[who] || time.Since(e.Issued) > 10*time.Minute {
				t.Errorf("%s's status shows credential ID %q issued %v; the audit log names %q", who, e.CredentialID, e.Issued, credOf[who])
			}
			table := u.kubemint(t, "", "status")
			if !strings.Contains(table.stdout, credOf[who]) {
				t.Errorf("%s's status table lacks %s:\n%s", who, credOf[who], table.stdout)
			}
		}
	})

	t.Run("rotated by the API server", func(t *testing.T) {
		// Her TokenRequest is in a gzip'd file, her late call in audit.log.
		cur, err := os.ReadFile(w.auditLog)
		if err != nil {
			t.Fatal(err)
		}
		issued := []byte(`"authentication.kubernetes.io/issued-credential-id":"` + credOf["alice"] + `"`)
		if !bytes.Contains(cur, []byte(`"name":"`+late+`"`)) || bytes.Contains(cur, issued) {
			t.Errorf("want alice's late call in %s and her TokenRequest in a rotated file", w.auditLog)
		}
		if gz, _ := filepath.Glob(filepath.Join(filepath.Dir(w.auditLog), "audit-*.log.gz")); len(gz) == 0 {
			t.Errorf("no gzip'd rotated file beside %s", w.auditLog)
		}
	})

	t.Run("cut at her TokenRequest", func(t *testing.T) {
		// Cut the log right after alice's TokenRequest and gzip the older
		// part: her calls are all in the newer file.
		i := bytes.Index(logBytes, []byte(`"authentication.kubernetes.io/issued-credential-id":"`+credOf["alice"]+`"`))
		if i < 0 {
			t.Fatalf("no TokenRequest in the log issued %s", credOf["alice"])
		}
		cut := i + bytes.IndexByte(logBytes[i:], '\n') + 1
		dir := t.TempDir()
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(logBytes[:cut])
		zw.Close()
		older := filepath.Join(dir, "audit-2026-12-04T10-00-00.000.log.gz")
		newer := filepath.Join(dir, "audit.log")
		if err := os.WriteFile(older, gz.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(newer, logBytes[cut:], 0o600); err != nil {
			t.Fatal(err)
		}
		// Newest first, as a shell glob may list them.
		recs, _ := auditJSON(t, adm, newer, older)
		check(t, "the rotated log", recs)
		// Without the older file, alice's TokenRequest is not there.
		recs, stderr := auditJSON(t, adm, newer)
		for n, got := range byName(recs, calls) {
			if calls[n] == "alice" && got[0] != "unknown (issued before these logs)" {
				t.Errorf("without the older file, %s reads %v", n, got)
			}
		}
		if !strings.Contains(stderr, "before they begin") {
			t.Errorf("no note about tokens minted before the log:\n%s", stderr)
		}
	})

	t.Run("garbage lines", func(t *testing.T) {
		lines := strings.SplitAfter(string(logBytes), "\n")
		mid := len(lines) / 2
		var b strings.Builder
		b.WriteString(lines[0])
		b.WriteString("this line is not JSON\n") // line 2
		b.WriteString(strings.Join(lines[1:mid], ""))
		b.WriteString(lines[mid][:len(lines[mid])/2] + "\n") // a line cut short
		b.WriteString("\x00\x01\x02\xff binary\n")
		b.WriteString(strings.Join(lines[mid:], ""))
		path := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		recs, stderr := auditJSON(t, adm, path)
		check(t, "the log with garbage", recs)
		warnings := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(warnings) != 1 || !strings.Contains(warnings[0], "skipped 3 malformed lines") || !strings.Contains(warnings[0], path+" line 2") {
			t.Errorf("want one line about 3 malformed lines, the first at line 2; stderr:\n%s", stderr)
		}
	})

	t.Run("not an audit log", func(t *testing.T) {
		r := adm.kubemint(t, "", "audit", w.cp.AdminKubeconfig)
		oneErrorLine(t, r, "is not a Kubernetes audit log", "--audit-log-path")
		if r.stdout != "" {
			t.Errorf("stdout: %s", r.stdout)
		}
	})

	t.Run("the log holds no token", func(t *testing.T) {
		b := auditBytes(t)
		for i, tok := range tokens {
			if tok == "" || bytes.Contains(b, []byte(tok)) {
				t.Errorf("the audit log holds token %d of the test (or it is empty)", i)
			}
		}
		if m := regexp.MustCompile(`eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+`).Find(b); m != nil {
			t.Errorf("the audit log holds a JWT (%d bytes)", len(m))
		}
	})
}
