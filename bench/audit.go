package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Targets of issue 18 for kubemint audit over a big log.
const (
	auditMaxRSS = 64 << 20 // bytes
)

// auditSection measures kubemint audit over a generated audit log of
// about size bytes (realistic Metadata-level events, 1% of them
// TokenRequests) beside one pass of jq that only selects the requests
// with a credential ID, over the same file in the same run.
func auditSection(binDir, tmp string, size int64) error {
	fmt.Println("## kubemint audit over a big log, against one jq pass")
	fmt.Println()
	path := filepath.Join(tmp, "audit.log")
	start := time.Now()
	n, err := writeAuditLog(path, size)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mb := float64(fi.Size()) / 1e6
	fmt.Printf("A generated log of %.0f MB, %d events (1%% TokenRequests; requests by service-account tokens, kubelets' certificates and people; written in %v), read from the page cache: each command runs once after a warm-up read.\n\n",
		mb, n, time.Since(start).Round(time.Second))
	// Warm the page cache, so that neither command pays the disk.
	if err := exec.Command("cat", path).Run(); err != nil {
		return err
	}
	type row struct {
		name string
		args []string
	}
	kubemint := filepath.Join(binDir, "kubemint-full")
	rows := []row{
		{"kubemint audit -o json (every request made with a service-account token, attributed)", []string{kubemint, "audit", "-o", "json", path}},
		{"kubemint audit --minted-by=alice (the recipe's question, a table)", []string{kubemint, "audit", "--minted-by=alice", path}},
	}
	jq, jqErr := exec.LookPath("jq")
	if jqErr == nil {
		rows = append(rows, row{`jq -c 'select(.user.extra["authentication.kubernetes.io/credential-id"])' (the filter alone)`,
			[]string{jq, "-c", `select(.user.extra["authentication.kubernetes.io/credential-id"])`, path}})
	}
	fmt.Println("| command | wall | throughput | peak RSS |")
	fmt.Println("| --- | --- | --- | --- |")
	var secs []float64
	var rss []int64
	for _, r := range rows {
		d, peak, err := runMeasured(tmp, r.args)
		if err != nil {
			return fmt.Errorf("%s: %v", r.name, err)
		}
		secs, rss = append(secs, d.Seconds()), append(rss, peak)
		fmt.Printf("| %s | %.1f s | %.0f MB/s | %.1f MiB |\n", r.name, d.Seconds(), mb/d.Seconds(), float64(peak)/(1<<20))
	}
	fmt.Println()
	if jqErr != nil {
		fmt.Println("jq is not installed (apt-get install jq): the comparison is not measured.")
		fmt.Println()
		verdicts = append(verdicts, "| kubemint audit, to one jq pass (issue 18) | faster | not measured | MISS |")
	} else {
		verdict := "PASS"
		if secs[0] >= secs[len(secs)-1] {
			verdict = "MISS"
		}
		line := fmt.Sprintf("| kubemint audit -o json, to one jq pass (issue 18) | faster | %.0f MB/s, jq %.0f MB/s (%.1fx) | %s |", mb/secs[0], mb/secs[len(secs)-1], secs[len(secs)-1]/secs[0], verdict)
		verdicts = append(verdicts, line)
		fmt.Printf("Target (issue 18): kubemint audit faster than one jq pass: %.1fx, %s.\n\n", secs[len(secs)-1]/secs[0], verdict)
	}
	peak := max(rss[0], rss[1])
	verdict := "PASS"
	if peak > auditMaxRSS {
		verdict = "MISS"
	}
	verdicts = append(verdicts, fmt.Sprintf("| kubemint audit peak RSS over %.0f MB (issue 18) | at most 64 MiB | %.1f MiB | %s |", mb, float64(peak)/(1<<20), verdict))
	fmt.Printf("Target (issue 18): kubemint audit's peak RSS at most 64 MiB: %.1f MiB, %s.\n\n", float64(peak)/(1<<20), verdict)
	return nil
}

// runMeasured runs args, stdout to /dev/null, and returns its wall time
// and peak RSS. The peak comes from /usr/bin/time -v, which forks the
// command from its own small process: a child of this Go program would
// report this program's RSS as its floor (Go starts it with vfork, and
// Linux keeps the larger high-water mark across exec). Without
// /usr/bin/time, from the child's VmHWM in /proc, sampled until it exits.
func runMeasured(tmp string, args []string) (time.Duration, int64, error) {
	var stderr bytes.Buffer
	report := filepath.Join(tmp, "time.txt")
	timeBin, timeErr := exec.LookPath("/usr/bin/time")
	c := exec.Command(args[0], args[1:]...)
	if timeErr == nil {
		c = exec.Command(timeBin, append([]string{"-v", "-o", report}, args...)...)
	}
	c.Stderr = &stderr
	t0 := time.Now()
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	var hwm int64
	done := make(chan struct{})
	if timeErr != nil {
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(10 * time.Millisecond):
				}
				if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Process.Pid)); err == nil {
					if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b); m != nil {
						kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
						hwm = max(hwm, kb<<10)
					}
				}
			}
		}()
	}
	err := c.Wait()
	d := time.Since(t0)
	close(done)
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, firstLine(stderr.String()))
	}
	if timeErr != nil {
		return d, hwm, nil
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return 0, 0, err
	}
	m := regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`).FindSubmatch(b)
	if m == nil {
		return 0, 0, fmt.Errorf("/usr/bin/time -v reported no peak RSS")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return d, kb << 10, nil
}

// writeAuditLog writes Metadata-level audit events, as kube-apiserver
// writes them, until the file holds size bytes, and returns how many.
// Every 100th is a TokenRequest; the tokens it issues are used by later
// requests, as are some issued before the log began.
func writeAuditLog(path string, size int64) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 18))
	t := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var jtis []string
	jti := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
	}
	for range 50 { // tokens minted before the log began
		jtis = append(jtis, jti())
	}
	minters := []string{`"username":"alice","groups":["devs","system:authenticated"]`, `"username":"bob","groups":["system:authenticated"]`,
		`"username":"gitlab:project_path:octo-group/app:ref_type:branch:ref:main","groups":["system:authenticated"]`}
	resources := []string{"pods", "configmaps", "deployments", "services", "secrets", "leases", "events", "endpointslices"}
	verbs := []string{"get", "list", "watch", "update", "patch", "create", "delete"}
	var written int64
	n := 0
	for written < size {
		t = t.Add(time.Duration(rng.IntN(2000)) * time.Microsecond)
		ts := t.Format("2006-01-02T15:04:05.000000Z")
		te := t.Add(time.Duration(rng.IntN(30000)) * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), n&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
		ns := fmt.Sprintf("team-%d", rng.IntN(40))
		res, verb := resources[rng.IntN(len(resources))], verbs[rng.IntN(len(verbs))]
		name := fmt.Sprintf("%s-%x", res[:len(res)-1], rng.Uint32()&0xfffff)
		code := []int{200, 200, 200, 200, 201, 404, 403, 409}[rng.IntN(8)]
		var line string
		switch k := n % 100; {
		case k == 0: // a TokenRequest, by a person, a CI job or a kubelet
			j := jti()
			jtis = append(jtis, j)
			if len(jtis) > 5000 {
				jtis = jtis[len(jtis)-5000:]
			}
			user := minters[rng.IntN(len(minters))]
			if rng.IntN(2) == 0 {
				node := rng.IntN(200)
				user = fmt.Sprintf(`"username":"system:node:node-%d","groups":["system:nodes","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=%064x"]}`, node, rng.Uint64())
			}
			line = fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/%s/serviceaccounts/deployer/token","verb":"create","user":{%s},"sourceIPs":["10.0.%d.%d"],"userAgent":"kubemint/v0.9.0 (linux/amd64)","objectRef":{"resource":"serviceaccounts","namespace":"%s","name":"deployer","apiVersion":"v1","subresource":"token"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authentication.kubernetes.io/issued-credential-id":"JTI=%s","authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"kubemint-minter-deployer\" of Role \"kubemint-minter-deployer\" to User"}}`,
				id, ns, user, rng.IntN(255), rng.IntN(255), ns, ts, te, j)
		case k < 61: // a request made with a service-account token
			sa := fmt.Sprintf("system:serviceaccount:%s:sa-%d", ns, rng.IntN(8))
			line = fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/%s/%s/%s","verb":"%s","user":{"username":"%s","uid":"%08x-1111-2222-3333-444455556666","groups":["system:serviceaccounts","system:serviceaccounts:%s","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=%s"],"authentication.kubernetes.io/node-name":["node-%d"],"authentication.kubernetes.io/pod-name":["app-%x"],"authentication.kubernetes.io/pod-uid":["%08x-aaaa-bbbb-cccc-ddddeeeeffff"]}},"sourceIPs":["10.1.%d.%d"],"userAgent":"app/v1.2.3 (linux/amd64) kubernetes/abcdef","objectRef":{"resource":"%s","namespace":"%s","name":"%s","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"app\" of Role \"app\" to ServiceAccount \"sa\""}}`,
				id, ns, res, name, verb, sa, rng.Uint32(), ns, jtis[rng.IntN(len(jtis))], rng.IntN(200), rng.Uint32()&0xffffff, rng.Uint32(), rng.IntN(255), rng.IntN(255), res, ns, name, code, ts, te)
		case k < 91: // a kubelet, with its client certificate
			node := rng.IntN(200)
			line = fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-%d?timeout=10s","verb":"update","user":{"username":"system:node:node-%d","groups":["system:nodes","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=%016x%016x%016x%016x"]}},"sourceIPs":["10.2.0.%d"],"userAgent":"kubelet/v1.37.2 (linux/amd64) kubernetes/abcdef","objectRef":{"resource":"leases","namespace":"kube-node-lease","name":"node-%d","uid":"%08x-1111-2222-3333-444455556666","apiGroup":"coordination.k8s.io","apiVersion":"v1","resourceVersion":"%d"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}`,
				id, node, node, rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), node%255, node, rng.Uint32(), rng.IntN(1<<30), ts, te)
		default: // a person or the control plane's own loopback client
			line = fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/%s/%s?limit=500","verb":"list","user":{"username":"oidc:dev-%d@example.com","groups":["oidc:devs","system:authenticated"]},"sourceIPs":["192.168.%d.%d"],"userAgent":"kubectl/v1.37.2 (linux/amd64) kubernetes/abcdef","objectRef":{"resource":"%s","namespace":"%s","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"devs\" of ClusterRole \"view\" to Group \"oidc:devs\""}}`,
				id, ns, res, rng.IntN(50), rng.IntN(255), rng.IntN(255), res, ns, ts, te)
		}
		m, err := bw.WriteString(line + "\n")
		if err != nil {
			f.Close()
			return n, err
		}
		written += int64(m)
		n++
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}
